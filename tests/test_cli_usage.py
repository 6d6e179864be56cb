"""Option and argument mistakes through the real entry point: one line naming the
command and what was wrong, exit 2, never a usage box or a traceback."""

from __future__ import annotations

import pytest

from .conftest import run_cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--match-threshold", "abc", "Huawei"], "clearance check: Invalid value for '--match-threshold'"),
        (["check", "Huawei", "--limit", "99999999999999999999"], "Input should be less than or equal to 1000"),
        (["lists", "activate", "us-ofac-sdn", "99999999999999999999"], "clearance lists activate: Invalid value for 'version'"),
        (["audit", "log", "--limit", "-1"], "greater than or equal to 1"),
        (["screen", "book.csv", "-j", "0"], "clearance screen: Invalid value for '--workers'"),
        (["config", "set", "four_eyes"], "clearance config set: Missing argument 'value'."),
        (["nosuch"], "No such command 'nosuch'."),
        (["check", "--badopt", "x"], "No such option: --badopt"),
    ],
)
def test_usage_mistakes_are_one_line(home, args, message):
    result = run_cli(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr and "Usage:" not in result.stderr


def test_help_and_exit_codes_still_work(home):
    shown = run_cli("check", "--help")
    assert shown.returncode == 0 and "Usage:" in shown.stdout


def test_a_group_without_a_command_prints_its_help_only(home):
    shown = run_cli("users")
    assert "Usage:" in shown.stdout + shown.stderr and "error:" not in shown.stderr
