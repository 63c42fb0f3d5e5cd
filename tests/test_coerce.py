"""Every form docs/rules.md § Inputs accepts for dates, times, yes/no, numbers and ids."""

import datetime as dt
import sys

import pytest

from kis_batch import coerce
from kis_batch.coerce import CoerceError, to_bool, to_choice, to_date, to_datetime, to_number, to_text, to_time

REF = dt.date(2026, 11, 27)


@pytest.mark.parametrize("raw", [
    dt.date(2026, 11, 27), dt.datetime(2026, 11, 27, 0, 0), "2026-11-27", "2026/11/27", "2026.11.27",
    "2026年11月27日", "２０２６/１１/２７", " 2026-11-27 ", "2026-11-27 09:05", 46353.0, "46353", "11-27", "11月27日",
])
def test_every_date_form(raw):
    assert to_date(raw, REF) == dt.date(2026, 11, 27)


def test_month_day_takes_reference_year_never_year_one():
    assert to_date("3-5", dt.date(2027, 1, 2)) == dt.date(2027, 3, 5)


@pytest.mark.parametrize("raw", ["2026-13-01", "2026-02-30", "明天", "12", 5.0, True])
def test_bad_dates_say_how_to_fix(raw):
    with pytest.raises(CoerceError, match="日期"):
        to_date(raw, REF)


@pytest.mark.parametrize(("raw", "expected"), [
    ("9:05", dt.time(9, 5)), ("09:05", dt.time(9, 5)), ("９：０５", dt.time(9, 5)), (dt.time(14, 30), dt.time(14, 30)),
    (0.5, dt.time(12, 0)), ("14:30:15", dt.time(14, 30, 15)), ("下午3点", dt.time(15, 0)),
    (dt.datetime(1899, 12, 30, 8, 15), dt.time(8, 15)),
])
def test_times(raw, expected):
    assert to_time(raw) == expected


@pytest.mark.parametrize("raw", ["25:00", "9:75", "noon", 1.5])
def test_bad_times(raw):
    with pytest.raises(CoerceError):
        to_time(raw)


def test_datetime_forms():
    assert to_datetime("2026/11/27 9:05", REF) == dt.datetime(2026, 11, 27, 9, 5)
    assert to_datetime("2026年11月27日 14:30", REF) == dt.datetime(2026, 11, 27, 14, 30)
    assert to_datetime(dt.date(2026, 11, 27), REF) == dt.datetime(2026, 11, 27)
    assert to_datetime(46353.25, REF) == dt.datetime(2026, 11, 27, 6, 0)


@pytest.mark.parametrize("raw", ["是", "Y", "yes", "YES", 1, 1.0, "1", "√", True, "ｙ"])
def test_yes(raw):
    assert to_bool(raw) is True


@pytest.mark.parametrize("raw", ["否", "N", "no", 0, "0", "×", False])
def test_no(raw):
    assert to_bool(raw) is False


def test_bool_rejects_other_words():
    with pytest.raises(CoerceError, match="是 或 否"):
        to_bool("也许")


def test_ids_and_phones_stay_text():
    assert to_text("01065001234") == "01065001234"
    assert to_text(1001.0) == "1001"
    assert to_text("０１２３") == "0123"
    assert to_text("  张  伟 ") == "张 伟"


def test_long_number_typed_as_number_is_refused():
    with pytest.raises(CoerceError, match="15位"):
        to_text(110101199001011234.0)


def test_numbers():
    assert to_number("1,200.50") == 1200.5
    assert to_number("３８００元") == 3800
    with pytest.raises(CoerceError):
        to_number("很多")


def test_choice_synonyms_and_numbers():
    choices = ("非常满意", "满意", "一般", "不满意")
    synonyms = {"5": "非常满意", "2": "不满意"}
    assert to_choice(5.0, choices, synonyms) == "非常满意"
    assert to_choice(" 满意 ", choices, synonyms) == "满意"
    with pytest.raises(CoerceError, match="非常满意/满意"):
        to_choice("很好", choices, synonyms)


def test_free_text_keeps_full_width_punctuation_and_halves_letters_digits_and_spaces() -> None:
    assert coerce.normalise_free_text(" 客户再次来电，问题依旧：Ｋ３　报错１０次\u200b ") == "客户再次来电，问题依旧：K3 报错10次"
    assert coerce.normalise_text("客户再次来电，问题依旧") == "客户再次来电,问题依旧"  # ids, numbers, dates, choices


def test_texts_are_folded_as_str_split_folds_them_for_every_character() -> None:
    """A cell with no space and nothing unprintable is left as it is, unsplit: true of every
    character Python splits on, so the short cut never keeps white space split() would fold."""
    for code in range(sys.maxunicode + 1):
        text = f"a{chr(code)}b"
        assert coerce.normalise_free_text(text) == " ".join(text.translate(coerce._HALF_WIDTH).split()), hex(code)
    assert coerce.normalise_text(" Ｃ００１\u3000甲\t") == "C001 甲" and coerce.normalise_free_text("甲，乙") == "甲，乙"
