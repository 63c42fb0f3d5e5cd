"""Docs that cannot drift: the rulebook (docs/rules.md) names every setting with its default and
the values it allows, every problem code, every template column, and exactly the files a real run
writes; the staff guide (docs/使用说明.md) names every one of those files too; and code citing the
rulebook cites a section it has."""

import re
from pathlib import Path

import pytest

from kis_batch import pipeline
from kis_batch.outputs import OUTPUTS
from kis_batch.problems import Code
from kis_batch.schema import TEMPLATES
from kis_batch.settings import allowed_text, default_of, format_setting, setting_fields
from tests.conftest import EXAMPLE_TODAY

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "rules.md"
GUIDE = ROOT / "docs" / "使用说明.md"
README = ROOT / "README.md"
SECTIONS = ("Architecture", "Rules", "Calendar", "Inputs", "Settings", "Bad input", "Returned sheets", "Outputs", "Dispatch",
            "Scores", "Quota gaps", "Callbacks", "Fees", "Quality", "Complaint cases", "Tracked customers", "Implementation projects",
            "Monthly close", "A month's life", "Mail", "Commands", "Decisions", "Planned")
# How the docs write the parts of an output's name that change from run to run.
TODAY_MARK, PLAN_MARK, NAME_MARK = "D", "P", "姓名"
EMPTY_DEFAULT = "（空）"


def _parts(text: str, marker: str) -> dict[str, str]:
    """The text under each heading of one level ("## " or "### "), by heading."""
    parts: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line.startswith(marker):
            current = line[len(marker):].strip()
            parts[current] = ""
        elif current is not None:
            parts[current] += line + "\n"
    return parts


def _table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row in text, without the header rule lines."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not re.fullmatch(r"\|[-|\s]*\|", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _unquoted(cell: str) -> str:
    return cell.strip("`")


@pytest.fixture(scope="module")
def rules() -> dict[str, str]:
    return _parts(RULES.read_text(encoding="utf-8"), "## ")


@pytest.fixture(scope="module")
def output_names(example_run: pipeline.RunResult) -> set[str]:
    """Every file a run of the example month writes, its dates and people's names as the docs write them."""
    result = example_run
    people = set(result.inbox.tables["staff"]["name"])
    marks = {EXAMPLE_TODAY.isoformat(): TODAY_MARK, result.plan_date.isoformat(): PLAN_MARK, **dict.fromkeys(people, NAME_MARK)}
    names = set()
    for path in (p for p in result.out_dir.iterdir() if p.is_file() and not p.name.startswith(".")):  # mail.json too
        stem, dot, suffix = path.name.partition(".")
        names.add("_".join(marks.get(part, part) for part in stem.split("_")) + dot + suffix)
    return names


def test_the_rulebook_has_the_cited_sections_in_order(rules):
    assert tuple(rules) == SECTIONS


def test_every_setting_is_a_row_with_its_chinese_name_key_default_and_range(rules):
    rows = {_unquoted(row[1]): row for row in _table_rows(rules["Settings"]) if len(row) == 5}
    for f in setting_fields():
        assert f.name in rows, f"docs/rules.md § Settings lacks {f.metadata['zh']} ({f.name})"
        zh, _, default, allowed, meaning = rows[f.name]
        assert zh == f.metadata["zh"], f.name
        assert default == (format_setting(f, default_of(f)) or EMPTY_DEFAULT), f.name
        assert allowed == allowed_text(f), f.name
        assert meaning == f.metadata["help"], f.name


def test_every_problem_code_is_explained(rules):
    codes = {_unquoted(row[0]) for row in _table_rows(rules["Bad input"])}
    missing = [code.value for code in Code if code.value not in codes]
    assert not missing, f"docs/rules.md § Bad input lacks {missing}"


def test_every_template_and_every_column_is_described(rules):
    templates = _parts(rules["Inputs"], "### ")
    for template in TEMPLATES:
        heading = f"{template.zh} `{template.key}`"
        assert heading in templates, f"docs/rules.md § Inputs lacks the template {heading}"
        rows = {(row[0], _unquoted(row[1])): row for row in _table_rows(templates[heading])}
        for column in template.columns:
            assert (column.zh, column.key) in rows, f"{template.zh} lacks the column {column.zh} ({column.key})"
            assert rows[column.zh, column.key][3] == ("是" if column.required else ""), f"{template.zh} {column.zh} 必填"


def _output_table(section: str) -> set[str]:
    """The file column of a section's output table."""
    return {_unquoted(row[0]) for row in _table_rows(section)[1:]}


def test_outputs_list_exactly_the_files_a_run_writes(rules, output_names):
    assert "派工单_P_姓名.xlsx" in output_names and "评分_D.xlsx" in output_names  # the marks were applied
    listed = {name for name in _output_table(rules["Outputs"]) if not name.startswith("../")}  # OUT/D's own
    assert not output_names - listed, f"docs/rules.md § Outputs lacks {sorted(output_names - listed)}"
    assert not listed - output_names, f"docs/rules.md § Outputs lists files a run does not write: {sorted(listed - output_names)}"


def test_every_declared_output_is_in_the_output_tables(rules):
    """Each output declared in kis_batch/outputs.py (the month's close and the quarter's deck too) is a row
    of the rulebook's and the README's output tables, and of the staff guide's by its file name."""
    readme = _parts(README.read_text(encoding="utf-8"), "## ")
    guide = _parts(GUIDE.read_text(encoding="utf-8"), "## ")
    tables = {"docs/rules.md": _output_table(rules["Outputs"]),
              "README.md": _output_table(next(text for heading, text in readme.items() if heading.startswith("What comes out")))}
    for doc, listed in tables.items():
        missing = sorted({output.documented for output in OUTPUTS} - listed)
        assert not missing, f"{doc}'s output table lacks {missing}"
    in_guide = {Path(name).name for name in _output_table(guide["每个输出文件做什么用、给谁"])}
    missing = sorted({Path(output.documented).name for output in OUTPUTS} - in_guide)
    assert not missing, f"docs/使用说明.md's output table lacks {missing}"


def test_the_staff_guide_names_every_output_file(output_names):
    guide = GUIDE.read_text(encoding="utf-8")
    missing = sorted(name for name in output_names if name not in guide)
    assert not missing, f"docs/使用说明.md does not mention {missing}"


def test_code_cites_only_sections_the_rulebook_has():
    citation = re.compile(r"docs/rules\.md § ([^\n]*)")
    known = re.compile("(?:" + "|".join(map(re.escape, SECTIONS)) + r")(?![A-Za-z])")
    wrong = []
    for path in sorted([*(ROOT / "kis_batch").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]):
        for cited in citation.findall(path.read_text(encoding="utf-8")):
            if not known.match(cited):
                wrong.append(f"{path.relative_to(ROOT)}: § {cited}")
    assert not wrong, wrong
