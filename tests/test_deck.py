"""季度述职 built from a two-month history made by the real close (October and November of a small folder
of real workbooks): the slides and their titles, 16:9, the chart series equal to the history's figures,
December (not in the history) shown as 无数据, every run of text in 微软雅黑; the CLI, the quarter closing
a month the history lacks; and the deck opening in LibreOffice Impress with every slide converted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from pptx import Presentation
from pptx.oxml.ns import qn

from kis_batch import history
from kis_batch.cli import main
from kis_batch.close import report_month, report_quarter
from kis_batch.outputs import HISTORY
from kis_batch.render.deck import FONT
from tests.conftest import pdf_pages
from tests.test_monthly_summary import OCTOBER, folder  # noqa: F401  (the folder fixture)

NOVEMBER = dt.date(2026, 11, 1)
D = dt.date(2026, 12, 5)  # December under way: the history has no December
TITLES = ["服务部季度述职 2026年第4季度", "本季度关键指标（对比上季度 2026-Q3）", "月度趋势：来电、服务与投诉",
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
    trends = slides[2].shapes
    calls = next(s for s in trends if s.has_chart).chart.plots[0].series
    by_name = {s.name: list(s.values) for s in calls}
    assert by_name["来电"][:2] == [_figure(out, "2026-10", "calls"), _figure(out, "2026-11", "calls")] == [1.0, 8.0]
    assert by_name["服务单"][:2] == [_figure(out, "2026-10", "services"), _figure(out, "2026-11", "services")]
    rates = next(s for s in slides[3].shapes if s.has_chart).chart.plots[0].series
    csat = next(s for s in rates if s.name == "客户满意率")
    assert list(csat.values)[1] == pytest.approx(_figure(out, "2026-11", "quality.csat"))


def test_a_month_the_history_lacks_reads_no_data(deck):
    path, out = deck
    slides = list(Presentation(str(path)).slides)
    assert "2026-12 无数据" in slides[0].shapes[1].text_frame.text
    key = _tables(slides[1])[0]
    calls = next(row for row in key if row[0] == "来电")
    assert calls[1] == f"{_figure(out, '2026-10', 'calls') + _figure(out, '2026-11', 'calls'):,.0f}" == "9"
    assert calls[2] == "无数据"  # the history holds nothing of 2026-Q3
    people = _tables(slides[4])[0]
    assert people[0][3:6] == MONTHS
    assert all(row[5] == "无数据" for row in people[1:]) and len(people) == 1 + 5
    for slide in slides[5:9]:
        rows = _tables(slide)[0]
        assert all(row[3] == "无数据" for row in rows[1:])
    plans = _tables(slides[9])[0]
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
    example = Path(__file__).resolve().parent.parent / "input_templates" / "example"
    demo = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", str(demo), "--months", "2"])
    assert result.exit_code == 0, result.output
    november_files = sorted(p.name for p in (demo / "2026-11").iterdir())
    assert november_files == sorted(p.name for p in example.iterdir())  # the last month is the example month
    assert all((demo / "2026-11" / name).read_bytes() == (example / name).read_bytes() for name in november_files)
    out = tmp_path / "out"
    for month in ("2026-10", "2026-11"):
        closed = CliRunner().invoke(main, ["report", str(demo / month), "--month", month, "--out", str(out)])
        assert closed.exit_code == 0, closed.output
    built = CliRunner().invoke(main, ["report", str(demo / "2026-11"), "--quarter", "2026-Q4", "--date",
                                      "2026-12-05", "--out", str(out)])
    assert built.exit_code == 0, built.output
    slides = list(Presentation(str(out / "2026-Q4" / "季度述职_2026-Q4.pptx")).slides)
    calls = next(s for s in slides[2].shapes if s.has_chart).chart.plots[0].series[0]
    assert list(calls.values) == [_figure(out, "2026-10", "calls"), _figure(out, "2026-11", "calls"), None]
    assert all(value and value > 500 for value in list(calls.values)[:2])
