"""The command as staff type it: every command documented with an example, dates in their forms."""

import json

import pytest
from click.testing import CliRunner

from kis_batch.cli import main

COMMANDS = ("init", "demo", "check", "run", "mail")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example: kis-batch " + command in result.output


def test_group_help_lists_every_command():
    output = CliRunner().invoke(main, ["--help"]).output
    assert all(command in output for command in COMMANDS)


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
