"""The command line's one error path: one line, the right exit status, no secret, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from interfacial.cli import app
from interfacial.errors import InterfacialError

runner = CliRunner()


@pytest.fixture
def broken_command():
    """A throwaway command raising whatever the test puts in ``box``, removed afterwards."""
    box: dict[str, BaseException] = {}

    @app.command("raise-for-test", hidden=True)
    def _raise() -> None:
        raise box["exc"]

    yield box
    app.registered_commands[:] = [c for c in app.registered_commands if c.name != "raise-for-test"]


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_bad_input_is_one_line_with_status_2_and_the_uri_password_masked(broken_command):
    broken_command["exc"] = InterfacialError(
        "cannot reach\n mongodb://alice:hunter2@db.example.org:27017/x; check store_uri"
    )
    result = runner.invoke(app, ["raise-for-test"])
    assert result.exit_code == 2
    assert _lines(result.stderr) == [
        "error: cannot reach mongodb://alice:***@db.example.org:27017/x; check store_uri"
    ]
    assert "hunter2" not in result.output


def test_an_unexpected_exception_is_a_one_line_bug_report_with_status_1(broken_command):
    broken_command["exc"] = ZeroDivisionError("division by zero")
    result = runner.invoke(app, ["raise-for-test"])
    assert result.exit_code == 1
    (line,) = _lines(result.stderr)
    assert line.startswith("error: unexpected ZeroDivisionError: division by zero")
    assert "--debug" in line and "Traceback" not in result.stderr


def test_debug_adds_the_traceback(broken_command):
    broken_command["exc"] = ZeroDivisionError("division by zero")
    result = runner.invoke(app, ["--debug", "raise-for-test"])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: unexpected")


def test_a_dependency_failure_names_the_file(broken_command, tmp_path: Path):
    broken_command["exc"] = FileExistsError(17, "File exists", str(tmp_path / "x.png"))
    result = runner.invoke(app, ["raise-for-test"])
    assert result.exit_code == 2
    assert _lines(result.stderr) == [f"error: File exists: {tmp_path / 'x.png'}"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["surfaces"], "Missing argument 'STRUCTURE'"),
        (["surfaces", "Li", "--max-index", "x"], "'--max-index'"),
        (["query", "surfaces", "--bogus"], "No such option: --bogus"),
        (["no-such-command"], "No such command 'no-such-command'"),
        (["match", "Li", "Li2S", "--metal-miller", "1", "1"], "--metal-miller"),
    ],
)
def test_a_malformed_command_line_is_one_line_with_status_2(args, fragment):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    (line,) = _lines(result.stderr)
    assert line.startswith("error: ") and fragment.lower() in line.lower()


def test_a_query_on_a_fresh_directory_explains_and_creates_nothing(tmp_path: Path, monkeypatch):
    data = tmp_path / "fresh" / "interfacial-data"
    monkeypatch.setenv("INTERFACIAL_DATA_DIR", str(data))
    result = runner.invoke(app, ["query", "interfaces"])
    assert result.exit_code == 0
    assert f"no results stored yet in {data.resolve()}" in result.stderr
    assert not (tmp_path / "fresh").exists()


def test_help_still_exits_0_with_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "surfaces" in result.stdout and not result.stderr
