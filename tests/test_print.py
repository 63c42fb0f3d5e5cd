"""Every output prints legibly (docs/rules.md § Outputs): the example month's workbooks, rendered to
PDF by LibreOffice in one call, measured word by word with pdftotext -bbox. Page 1 of every workbook
has a median text size of at least 8 pt; an engineer's route and the 服务单 at least 9 pt.

Sizes are calibrated in the same conversion: a reference workbook with 10 pt text at 100 % tells how
tall this machine's fonts draw a 10 pt word's box (Noto Sans CJK draws about 1.3 times the size)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import statistics
import subprocess
from pathlib import Path

import pytest
import xlsxwriter
from click.testing import CliRunner

from kis_batch import pipeline
from kis_batch.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"
TODAY = dt.date(2026, 11, 27)
MONTH = "2026-11"
LEAST_PT, ROUTE_LEAST_PT = 8, 9
REFERENCE = "_reference_10pt"
WORD = re.compile(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">')
SERVICE_PAGE = re.compile(r"第 1 站（共 \d+ 站）")

pytestmark = pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")),
                                reason="LibreOffice or poppler is not installed")


def _reference(path: Path) -> None:
    """Lines of 10 pt text, Chinese and digits, at 100 %: the yardstick."""
    book = xlsxwriter.Workbook(str(path))
    sheet, ten = book.add_worksheet(), book.add_format({"font_size": 10})
    for row in range(9):
        sheet.write_string(row, 0, "客户名称 2026-11-27 服务工程师", ten)
    book.close()


def _pages(pdf: Path) -> list[list[float]]:
    """Each page's word box heights."""
    text = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return [[float(bottom) - float(top) for top, bottom in WORD.findall(page)] for page in text.split("<page ")[1:]]


def _page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every workbook of one example run and its month's report, as PDFs by name (one LibreOffice call)."""
    root = tmp_path_factory.mktemp("print")
    folder = root / "in"
    shutil.copytree(EXAMPLE, folder)
    assert pipeline.run(folder, TODAY, root / "out").exit_code == 0
    report = CliRunner().invoke(main, ["report", str(folder), "--month", MONTH, "--out", str(root / "out")])
    assert report.exit_code == 0, report.output
    books = sorted((root / "out").rglob("*.xlsx"))
    assert len(books) > 15
    _reference(root / f"{REFERENCE}.xlsx")
    pdfs = root / "pdf"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{root}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(pdfs), str(root / f"{REFERENCE}.xlsx"), *map(str, books)],
                   check=True, capture_output=True, timeout=600)
    return {pdf.stem: pdf for pdf in pdfs.glob("*.pdf")}


def _points_per_box(printed: dict[str, Path]) -> float:
    heights = _pages(printed[REFERENCE])[0]
    return 10 / statistics.median(heights)


def test_page_one_of_every_workbook_prints_at_8_pt_and_a_route_at_9(printed: dict[str, Path]) -> None:
    scale = _points_per_box(printed)
    medians = {name: statistics.median(_pages(pdf)[0]) * scale for name, pdf in printed.items() if name != REFERENCE}
    routes = {name for name in medians if re.fullmatch(r"派工单_\d{4}-\d\d-\d\d_.+", name)}
    assert routes and {"月度考核_2026-11", "月度总结_2026-11", "派工单_2026-11-30"} <= medians.keys()
    small = {name: round(pt, 1) for name, pt in medians.items()
             if pt < (ROUTE_LEAST_PT if name in routes else LEAST_PT)}
    assert small == {}


def test_the_service_sheet_prints_at_9_pt_or_more(printed: dict[str, Path]) -> None:
    scale = _points_per_box(printed)
    routes = [pdf for name, pdf in printed.items() if name.startswith("派工单_2026-11-30_")]
    for pdf in routes:
        texts, pages = _page_texts(pdf), _pages(pdf)
        first = next(i for i, text in enumerate(texts) if SERVICE_PAGE.search(text))
        assert first > 0  # after the route table
        assert statistics.median(pages[first]) * scale >= ROUTE_LEAST_PT, pdf.name


def test_what_a_reader_sees_on_paper(printed: dict[str, Path]) -> None:
    """The small things: a quota exceeded reads 超额, never a negative gap; an empty list says so in one
    line; a deduction carries its minus sign; a specialist's file counts their own projects."""
    quotas = _page_texts(printed["指标缺口_2026-11-27"])[0]
    assert "超额" in quotas and not re.search(r"(?<![\d.])-\d", quotas)
    callbacks = _page_texts(printed["回访_2026-11-30"])
    assert [text.strip() for text in callbacks if "今天无满意度回访" in text] == ["今天无满意度回访"]
    evaluation = _page_texts(printed["月度考核_2026-11"])[0]
    assert "−" in evaluation and not re.search(r"\+\d", evaluation)
    department = re.search(r"共 (\d+) 个", _page_texts(printed["实施_2026-11-27"])[0])
    own = [re.search(r"共 (\d+) 个", _page_texts(pdf)[0]) for name, pdf in printed.items()
           if name.startswith("实施_2026-11-27_")]
    assert department and own and sum(int(m.group(1)) for m in own if m) == int(department.group(1))
