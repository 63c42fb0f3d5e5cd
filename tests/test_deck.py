"""季度述职 built from a two-month history made by the real close (October and November of a small folder
of real workbooks): the slides and their titles, 16:9, the chart series equal to the history's figures,
December (not in the history) shown as 无数据, every run of text in 微软雅黑; the CLI, the quarter closing
a month the history lacks; and the deck opening in LibreOffice Impress with every slide converted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pptx import Presentation
from pptx.oxml.ns import qn

from kis_batch import history
from kis_batch.cli import main
from kis_batch.close import report_month, report_quarter
from kis_batch.outputs import HISTORY
from kis_batch.render.deck import FONT
from kis_batch.rules.figures import Figure
from kis_batch.rules.quarter import MonthData, QuarterReview, takeaways
from tests.conftest import pdf_pages
from tests.test_monthly_summary import OCTOBER, folder  # noqa: F401  (the folder fixture)

NOVEMBER = dt.date(2026, 11, 1)
D = dt.date(2026, 12, 5)  # December under way: the history has no December
TITLES = ["服务部季度述职 2026年第4季度", "本季度要点", "本季度关键指标（对比上季度 2026-Q3，按月均）", "月度趋势：来电、服务与投诉",
          "月度趋势：满意度与收款", "人员考核", "质量与投诉", "年费", "实施项目", "重点客户", "下季度工作计划（2027年第1季度）"]
MONTHS = ["2026-10", "2026-11", "2026-12（无数据）"]


@pytest.fixture(scope="module")
def deck(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:  # noqa: F811
    """OUT with October and November closed, then the deck of 2026-Q4."""
    out = tmp_path_factory.mktemp("deck_out")
    report_month(folder, OCTOBER, D, out)
    report_month(folder, NOVEMBER, D, out)
    result = report_quarter(folder, 2026, 4, D, out)
    assert result.closed_months == []  # both months were closed already
    path = out / "2026-Q4" / "季度述职_2026-Q4.pptx"
    assert result.outputs == [path]
    return path, out


def _figure(out: Path, month: str, figure: str) -> float | None:
    figures = history.read_table(out / HISTORY, "month_figures")
    found = figures[(figures["month"] == month) & (figures["figure"] == figure)]["value"]
    return float(found.iloc[0]) if len(found) else None


def _tables(slide) -> list[list[list[str]]]:
    return [[[cell.text for cell in row.cells] for row in shape.table.rows] for shape in slide.shapes if shape.has_table]


def test_slides_titles_and_shape(deck):
    path, _ = deck
    presentation = Presentation(str(path))
    assert [s.shapes.title.text for s in presentation.slides] == TITLES
    assert presentation.slide_width * 9 == pytest.approx(presentation.slide_height * 16, rel=1e-3)


def test_chart_series_are_the_history_figures_and_december_has_none(deck):
    path, out = deck
    slides = list(Presentation(str(path)).slides)
    checked = 0
    for slide in slides:
        for shape in slide.shapes:
            if not shape.has_chart:
                continue
            plot = shape.chart.plots[0]
            assert list(plot.categories) == MONTHS
            for series in plot.series:
                values = list(series.values)
                assert values[2] is None  # December: no point, never a zero
                checked += 1
    assert checked >= 15
    trends = slides[3].shapes
    calls = next(s for s in trends if s.has_chart).chart.plots[0].series
    by_name = {s.name: list(s.values) for s in calls}
    assert by_name["来电"][:2] == [_figure(out, "2026-10", "calls"), _figure(out, "2026-11", "calls")] == [1.0, 8.0]
    assert by_name["服务单"][:2] == [_figure(out, "2026-10", "services"), _figure(out, "2026-11", "services")]
    rates = next(s for s in slides[4].shapes if s.has_chart).chart.plots[0].series
    csat = next(s for s in rates if s.name == "客户满意率")
    assert list(csat.values)[1] == pytest.approx(_figure(out, "2026-11", "quality.csat"))


def test_a_month_the_history_lacks_reads_no_data(deck):
    path, out = deck
    slides = list(Presentation(str(path)).slides)
    assert "2026-12 无数据" in slides[0].shapes[1].text_frame.text
    key = _tables(slides[2])[0]
    assert key[0][1:3] == ["本季度 2026-Q4（2个月）", "上季度 2026-Q3（无数据）"]
    calls = next(row for row in key if row[0] == "来电（月均）")
    # per month over the two months held (1 and 8 calls), rounded half away from zero as Excel rounds
    assert (_figure(out, '2026-10', 'calls') + _figure(out, '2026-11', 'calls')) / 2 == 4.5 and calls[1] == "5"
    assert calls[2] == "无数据"  # the history holds nothing of 2026-Q3
    people = _tables(slides[5])[0]
    assert people[0][3:6] == MONTHS
    assert all(row[5] == "无数据" for row in people[1:]) and len(people) == 1 + 5
    for slide in slides[6:10]:
        rows = _tables(slide)[0]
        assert all(row[3] == "无数据" for row in rows[1:])
    plans = _tables(slides[10])[0]
    assert plans[0] == ["序号", "工作重点", "目标", "负责人", "完成时间"] and all(r[1:] == [""] * 4 for r in plans[1:])


def test_every_run_of_text_is_the_cjk_font(deck):
    path, _ = deck
    runs = 0
    for slide in Presentation(str(path)).slides:
        for rpr in slide.shapes._spTree.iter(qn("a:rPr")):
            runs += 1
            assert rpr.find(qn("a:latin")).get("typeface") == FONT and rpr.find(qn("a:ea")).get("typeface") == FONT
            assert rpr.get("sz") is not None
    assert runs > 100


def test_the_quarter_closes_a_finished_month_the_history_lacks(folder, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", str(folder), "--quarter", "2026-Q4", "--date", D.isoformat(),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "历史里没有 2026-11 的月度结算，已先结算" in result.output  # the folder holds November's feedback
    assert "2026-10：无数据" in result.output and "2026-12：无数据" in result.output  # no October feedback
    assert (out / "2026-11" / "月度总结_2026-11.xlsx").is_file()
    assert (out / "2026-Q4" / "季度述职_2026-Q4.pptx").is_file()
    assert set(history.read_table(out / HISTORY, "month_figures")["month"]) == {"2026-11"}


def test_the_cli_wants_one_of_month_or_quarter(folder, tmp_path):  # noqa: F811
    both = CliRunner().invoke(main, ["report", str(folder), "--month", "2026-11", "--quarter", "2026-Q4",
                                     "--out", str(tmp_path)])
    assert both.exit_code == 2 and "--month 或 --quarter" in both.output
    bad = CliRunner().invoke(main, ["report", str(folder), "--quarter", "2026-Q5", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "YYYY-Qn" in bad.output


def test_the_deck_opens_in_impress_and_every_slide_converts(deck, to_pdf):
    path, _ = deck
    [pdf] = to_pdf(path)
    assert len(pdf_pages(pdf)) == len(Presentation(str(path)).slides) == len(TITLES)


def test_the_demo_writes_two_months_for_a_deck_with_one_month_missing(tmp_path):
    demo = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", str(demo), "--months", "2"])
    assert result.exit_code == 0, result.output
    # Only the first month has the excerpt of earlier calls; November starts from October's carry-forward.
    assert [(demo / m / "热线记录_往月摘录.xlsx").exists() for m in ("2026-10", "2026-11")] == [True, False]
    out = tmp_path / "out"
    for month in ("2026-10", "2026-11"):
        closed = CliRunner().invoke(main, ["report", str(demo / month), "--month", month, "--out", str(out)])
        assert closed.exit_code == 0, closed.output
    built = CliRunner().invoke(main, ["report", str(demo / "2026-11"), "--quarter", "2026-Q4", "--date",
                                      "2026-12-05", "--out", str(out)])
    assert built.exit_code == 0, built.output
    slides = list(Presentation(str(out / "2026-Q4" / "季度述职_2026-Q4.pptx")).slides)
    calls = next(s for s in slides[3].shapes if s.has_chart).chart.plots[0].series[0]
    assert list(calls.values) == [_figure(out, "2026-10", "calls"), _figure(out, "2026-11", "calls"), None]
    assert all(value and value > 500 for value in list(calls.values)[:2])


def test_the_takeaways_compare_per_month_and_say_what_needs_attention() -> None:
    """A quarter of two months against one of one: calls per month fell, though their sum rose."""
    def month(name: str, **figures: float) -> MonthData:
        return MonthData(name, f"{name}-30", True, {Figure[key].value: value for key, value in figures.items()},
                         pd.DataFrame())

    q3 = (month("2026-07"), month("2026-08"), month("2026-09", CALLS=1269, SERVICES=605, QUALITY_CSAT=0.856))
    q4 = (month("2026-10", CALLS=1027, SERVICES=528, QUALITY_CSAT=0.849),
          month("2026-11", CALLS=1106, SERVICES=536, QUALITY_CSAT=0.838, COMPLAINTS_OPEN=4, COMPLAINTS_OVERDUE=1,
                QUOTA_RESOLUTIONS=333, QUOTA_RESOLUTIONS_TARGET=270, QUOTA_VISITS=77, QUOTA_VISITS_TARGET=90,
                FEES_COLLECTION_RATE_YEAR=0.905, FEES_OVERDUE_BALANCE=290500, FEES_OVERDUE=71),
          month("2026-12"))
    review = QuarterReview("2026-Q4", q4, "2026-Q3", q3)
    assert (review.held, review.previous_held) == (2, 1)
    said = takeaways(review)
    assert 3 <= len(said) <= 5
    assert said[0] == "来电月均 1,067 个，比上季度月均 1,269 个减少 16.0%。"  # the sum, 2,133, rose
    assert "客户满意率 84.4%，比上季度 85.6% 下降 1.2 个百分点。" in said
    assert "2026-11 末未结案投诉 4 起，其中超期 1 起，已上报总经理。" in said
    assert "2026-11 问题解决 333 家次（指标 270，已达标），客户拜访 77 家次（指标 90，未达标）。" in said
