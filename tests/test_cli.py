"""The command as staff type it: every command documented with an example, dates in their forms."""

import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kis_batch.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"

COMMANDS = ("init", "demo", "check", "run", "mail")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_chinese_help_with_an_example_kept_on_its_own_line(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    example = lines.index("  示例:")
    assert lines[example + 1].startswith("    kis-batch " + command + " ")
    description = lines[2]
    assert re.search(r"[\u4e00-\u9fff]", description) and not re.search(r"\b(Write|Read|Validate|Mail|Example)\b", result.output)
    assert "显示本帮助并退出" in result.output


def test_group_help_lists_every_command_and_has_examples():
    output = CliRunner().invoke(main, ["--help"]).output
    assert all(command in output for command in COMMANDS)
    assert "示例" in output and "显示版本号并退出" in output


def test_init_help_says_existing_files_are_kept():
    assert "已有的文件不会被覆盖" in CliRunner().invoke(main, ["init", "--help"]).output


def test_run_accepts_a_chinese_date_and_reports_the_plan_date(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["demo", str(tmp_path / "in"), "--month", "2026年11月", "--date", "2026-11-06"]).exit_code == 0
    result = runner.invoke(main, ["run", str(tmp_path / "in"), "--date", "2026年11月6日", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "派工日期 2026-11-09" in result.output
    manifest = json.loads((tmp_path / "out" / "2026-11-06" / "run.json").read_text(encoding="utf-8"))
    assert manifest["today"] == "2026-11-06" and manifest["figures"]["plan_date"] == "2026-11-09"
    assert {i["path"] for i in manifest["inputs"]} >= {"员工名单.xlsx", "客户档案.xlsx"}
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])


def test_a_bad_date_is_refused_with_a_message(tmp_path):
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--date", "明天"])
    assert result.exit_code == 2 and "日期" in result.output


def _values(workbook):
    book = openpyxl.load_workbook(workbook, read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_run_dot_twice_never_reads_its_own_outputs_back(tmp_path, monkeypatch):
    inbox = tmp_path / "收件夹"
    shutil.copytree(EXAMPLE, inbox)
    spreadsheets = len(list(EXAMPLE.glob("*.xlsx")))
    monkeypatch.chdir(inbox)
    runner = CliRunner()
    first = runner.invoke(main, ["run", ".", "--date", "2026-11-27"])
    assert first.exit_code == 0, first.output
    dispatch = inbox / "output" / "2026-11-27" / "派工单_2026-11-30.xlsx"
    first_dispatch = _values(dispatch)
    first_manifest = json.loads((inbox / "output" / "2026-11-27" / "run.json").read_text(encoding="utf-8"))
    assert list((inbox / "output" / "2026-11-27").glob("派工单_2026-11-30_*.xlsx"))  # valid input, were it read

    second = runner.invoke(main, ["run", ".", "--date", "2026-11-27"])
    assert second.exit_code == 0, second.output
    manifest = json.loads((inbox / "output" / "2026-11-27" / "run.json").read_text(encoding="utf-8"))
    paths = [item["path"] for item in manifest["inputs"]]
    assert len(paths) == spreadsheets and not [p for p in paths if p.startswith("output/")]
    assert manifest["figures"] == first_manifest["figures"]
    assert _values(dispatch) == first_dispatch

    checked = runner.invoke(main, ["check", ".", "--date", "2026-11-27"])
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith(f"读取 {spreadsheets} 个文件")
