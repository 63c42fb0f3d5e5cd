"""Shared fixtures. The bundled example month run once for its D, for the tests that only read what
it wrote. LibreOffice renders workbooks and decks to PDF the way a user prints them, and poppler
reads the PDF back: where either is not installed, the test is skipped at that call, so whatever it
checked before still counts."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kis_batch import pipeline

EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"
EXAMPLE_TODAY = dt.date(2026, 11, 27)
# Seconds for one conversion; every output of a month in one call takes the longest.
CONVERT_TIMEOUT = 600
# pdfinfo lists the size of the pages in a range; one this long covers any PDF here.
LAST_PAGE = 9999

ToPdf = Callable[..., list[Path]]


@pytest.fixture(scope="session")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> pipeline.RunResult:
    """The example month run for EXAMPLE_TODAY. Shared by every test that asks for it: read its
    outputs and result, never change them; a test that does makes a run of its own."""
    result = pipeline.run(EXAMPLE, EXAMPLE_TODAY, tmp_path_factory.mktemp("example-run"))
    assert result.exit_code == 0
    return result


@pytest.fixture(scope="session")
def to_pdf(tmp_path_factory: pytest.TempPathFactory) -> ToPdf:
    """to_pdf(*files) converts each file with soffice headless into a fresh folder and returns the
    PDFs in the same order. One private LibreOffice profile (and HOME) for the session: it is made
    once, and never shared with another run or the user's own LibreOffice."""
    home = tmp_path_factory.mktemp("libreoffice")
    profile = (home / "profile").as_uri()

    def convert(*files: Path) -> list[Path]:
        if shutil.which("soffice") is None:
            pytest.skip("LibreOffice (soffice) is not installed")
        out = tmp_path_factory.mktemp("pdf")
        done = subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                               "--outdir", str(out), *map(str, files)],
                              capture_output=True, text=True, timeout=CONVERT_TIMEOUT, env={**os.environ, "HOME": str(home)})
        pdfs = [out / f"{path.stem}.pdf" for path in files]
        missing = [pdf.name for pdf in pdfs if not pdf.is_file()]
        assert done.returncode == 0 and not missing, f"soffice exited {done.returncode}, no {missing}: {done.stderr}"
        return pdfs

    return convert


def pdf_pages(pdf: Path) -> list[tuple[float, float]]:
    """Each page's size (width, height) in points, by pdfinfo."""
    if shutil.which("pdfinfo") is None:
        pytest.skip("poppler (pdfinfo) is not installed")
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", str(LAST_PAGE), str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    return [(float(width), float(height)) for width, height in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]


def pdf_text(pdf: Path) -> list[str]:
    """Each page's text as pdftotext lays it out."""
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler (pdftotext) is not installed")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1]  # every page ends in a form feed
