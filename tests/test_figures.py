"""A month's figures under declared names: every figure the example month records is a declared
`Figure` stored under the same text as before, a history whose rows were written as plain text reads
back by those names, and a name never declared fails where it is read (the quarter's months, the
deck) instead of showing as an empty cell."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kis_batch import history, pipeline
from kis_batch.history import MonthRecord
from kis_batch.outputs import HISTORY
from kis_batch.render import deck
from kis_batch.rules.figures import Figure
from kis_batch.rules.monthly_summary import trend_of
from kis_batch.rules.quarter import QuarterReview, quarter_review

EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"
PERSON = {"staff_id": "E01", "name": "张伟", "role": "服务工程师", "task": 30.0, "service": 30.0, "callbacks": 20.0,
          "discipline": 10.0, "fees": 10.0, "complaints": 0.0, "total": 100.0, "grade": "A", "rank": 1}


def test_every_figure_the_example_month_records_is_declared_under_its_stored_name(tmp_path: Path) -> None:
    pipeline.run(EXAMPLE, dt.date(2026, 11, 27), tmp_path)
    stored = set(history.read_table(tmp_path / HISTORY, "month_figures")["figure"])
    assert stored <= {figure.value for figure in Figure}
    assert {"quality.csat", "fees.collection_rate_month", "calls.category.操作咨询", "services.type.客户拜访",
            "customers.not_contacted_by_segment.remote", "evaluation.grade.A"} <= stored


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A history whose November was written with plain text names, as every version has stored them."""
    path = tmp_path / HISTORY
    history.record(path, None, [MonthRecord("2026-11", dt.date(2026, 11, 30), True, (PERSON,),
                                            {"quality.csat": 0.9, "calls": 12.0, "complaints.department": 2.0})])
    return path


def _review(db: Path) -> QuarterReview:
    return quarter_review(2026, 4, history.read_table(db, "month_figures"), history.read_table(db, "person_months"))


def test_plain_text_rows_read_back_by_their_declared_names(db: Path) -> None:
    november = _review(db).months[1]
    assert (november.value(Figure.QUALITY_CSAT), november.value(Figure.CALLS)) == (0.9, 12.0)
    assert november.value(Figure.FEES_COLLECTION_RATE_MONTH) is None  # declared, not recorded that month
    [row] = trend_of(history.read_table(db, "month_figures")).to_dict("records")
    assert (row["csat"], row["calls"], row["complaints_department"]) == (0.9, 12.0, 2.0)


def test_a_name_never_declared_fails_where_it_is_read(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    review = _review(db)
    with pytest.raises(ValueError, match=r"quality\.csatt"):
        review.months[1].value("quality.csatt")
    monkeypatch.setattr(deck, "QUALITY_ROWS", (("客户满意率", "quality.csatt", "percent"),))
    with pytest.raises(ValueError, match=r"quality\.csatt"):
        deck.build_deck(review)
