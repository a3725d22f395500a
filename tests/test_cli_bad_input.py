"""The command line on bad input, end to end in a subprocess (in this process where
an error is simulated).

Whatever is thrown at it, `atoconf` exits 2 for input it cannot read or a
bad command line, 1 for a readable file with errors, says which file, and
never shows a Python traceback.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from tests.conftest import Ran, cli

VALID = """\
product lamp "Desk lamp"
enum Finish { black, brass }
type Shade {
  finish: Finish
  price: decimal
}
parts Shade {
  "SH-1" "Black shade": finish=black, price=19.90
  "SH-2" "Brass shade": finish=brass, price=49.00
}
component shade: Shade
option color: Finish default black
rule color_match: shade.finish == color
"""

# One syntax error, one unknown name, one type mismatch, each on its own line.
THREE_ERRORS = """\
product p
enum Socket { AM5, LGA1700 }
type CPU {
  socket: Socket
  cores: int
}
parts CPU {
  "C1": socket=AM5, cores=8
}
component cpu: CPU
rule broken: cpu.cores > > 2
rule unknown: cpus.cores > 1
rule mismatch: cpu.socket == 5
"""


def atoconf(cwd: Path, *args: str, in_process: bool = False) -> Ran:
    """`atoconf ARGS` in `cwd` at rich's default width; it never shows a traceback."""
    run = cli(*args, cwd=cwd, env={"COLUMNS": None}, in_process=in_process, timeout=120)
    output = run.stdout + run.stderr
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    return run


def assert_reports(run: Ran, code: int, *needles: str) -> None:
    """Exit `code` and each needle somewhere in what was printed."""
    output = run.stdout + run.stderr
    assert run.returncode == code, output
    assert output.strip(), "a failure must say something"
    for needle in needles:
        assert needle in output, f"{needle!r} not in:\n{output}"


# ---- files that cannot be read --------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "dump"])
def test_missing_file(tmp_path: Path, command: str) -> None:
    run = atoconf(tmp_path, command, "nowhere.ato")
    assert_reports(run, 2, "nowhere.ato", "no such file")


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "rules.ato").mkdir()
    run = atoconf(tmp_path, "check", "rules.ato")
    assert_reports(run, 2, "rules.ato", "directory")


def test_a_folder_given_as_the_stock_names_the_csv_it_wants() -> None:
    ran = cli(
        "plan", "catalogs/pc/workstation.ato", "--stock", "catalogs/pc", "--set", "usage=gaming"
    )
    assert ran.returncode == 2 and ran.stdout == ""
    assert (
        "cannot read catalogs/pc: it is a folder, not a CSV file; it holds stock.csv" in ran.stderr
    )
    assert "such as catalogs/pc/stock.csv" in ran.stderr


def test_file_not_in_utf8(tmp_path: Path) -> None:
    latin1 = VALID.replace("Brass", "Laiton \u00e9tam\u00e9").encode("latin-1")
    (tmp_path / "lamp.ato").write_bytes(latin1)
    run = atoconf(tmp_path, "check", "lamp.ato")
    assert_reports(run, 2, "lamp.ato", "not valid UTF-8", "byte 0xe9 on line 9")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.ato").write_bytes(b"")
    run = atoconf(tmp_path, "check", "empty.ato")
    assert_reports(run, 1, "empty.ato:1:1", "E0002", "empty")


def test_file_of_50_megabytes(tmp_path: Path) -> None:
    line = b"option rgb: bool  # padding that looks like a real rule file\n"
    (tmp_path / "huge.ato").write_bytes(line * (50 * 1024 * 1024 // len(line) + 1))
    run = atoconf(tmp_path, "check", "huge.ato")
    assert_reports(run, 2, "huge.ato", "50.0 MB", "limit")


def test_file_without_read_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated, in this process: root (as CI runs) reads any file."""
    (tmp_path / "secret.ato").write_text(VALID, encoding="utf-8")
    read_bytes = Path.read_bytes

    def refuse_secrets(path: Path) -> bytes:
        if path.name == "secret.ato":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse_secrets)
    run = atoconf(tmp_path, "check", "secret.ato", in_process=True)
    assert_reports(run, 2, "secret.ato", "permission denied")


def test_one_unreadable_file_among_good_ones(tmp_path: Path) -> None:
    (tmp_path / "lamp.ato").write_text(VALID, encoding="utf-8")
    run = atoconf(tmp_path, "check", "lamp.ato", "missing.ato")
    assert_reports(run, 2, "missing.ato", "no such file")
    assert "lamp.ato" not in run.stdout + run.stderr


def test_unreadable_file_as_json(tmp_path: Path) -> None:
    run = atoconf(tmp_path, "check", "--format", "json", "nowhere.ato")
    assert run.returncode == 2
    report = json.loads(run.stdout)
    assert report["valid"] is False
    assert [d["code"] for d in report["diagnostics"]] == ["E0001"]
    assert "nowhere.ato" in report["diagnostics"][0]["message"]


def test_missing_import(tmp_path: Path) -> None:
    (tmp_path / "lamp.ato").write_text('import "lib/parts.ato"\n' + VALID, encoding="utf-8")
    run = atoconf(tmp_path, "check", "lamp.ato")
    assert_reports(run, 1, "lamp.ato:1:1", "E0502", "parts.ato")


# ---- bad command lines ----------------------------------------------------------------


def test_unknown_flag(tmp_path: Path) -> None:
    (tmp_path / "lamp.ato").write_text(VALID, encoding="utf-8")
    run = atoconf(tmp_path, "check", "--bogus", "lamp.ato")
    assert_reports(run, 2, "--bogus")
    assert run.stdout == ""


def test_bad_format_value(tmp_path: Path) -> None:
    (tmp_path / "lamp.ato").write_text(VALID, encoding="utf-8")
    run = atoconf(tmp_path, "check", "--format", "xml", "lamp.ato")
    assert_reports(run, 2, "'xml'", "--format")
    assert run.stdout == ""


def test_no_file_named(tmp_path: Path) -> None:
    run = atoconf(tmp_path, "check")
    assert_reports(run, 2, "Missing argument")


def test_unknown_command(tmp_path: Path) -> None:
    run = atoconf(tmp_path, "frobnicate", "lamp.ato")
    assert_reports(run, 2, "frobnicate")


# ---- readable files -------------------------------------------------------------------


def test_valid_file_prints_nothing(tmp_path: Path) -> None:
    (tmp_path / "lamp.ato").write_text(VALID, encoding="utf-8")
    run = atoconf(tmp_path, "check", "lamp.ato")
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


def test_all_three_errors_at_their_places(tmp_path: Path) -> None:
    (tmp_path / "three.ato").write_text(THREE_ERRORS, encoding="utf-8")
    run = atoconf(tmp_path, "check", "three.ato")
    assert run.returncode == 1, run.stdout + run.stderr
    headlines = [line for line in run.stdout.splitlines() if line.startswith("three.ato:")]
    assert headlines == [
        "three.ato:11:26: error[E0101]: unexpected '>'",
        "three.ato:12:15: error[E0201]: unknown component or enum 'cpus'",
        "three.ato:13:16: error[E0301]: cannot compare a Socket with an int",
    ]
    assert "did you mean 'cpu'?" in run.stdout
    assert run.stdout.rstrip().endswith("3 errors, 0 warnings")


def test_three_errors_as_json(tmp_path: Path) -> None:
    (tmp_path / "three.ato").write_text(THREE_ERRORS, encoding="utf-8")
    run = atoconf(tmp_path, "check", "--format", "json", "three.ato")
    assert run.returncode == 1
    report = json.loads(run.stdout)
    assert list(report) == ["version", "valid", "error_count", "warning_count", "diagnostics"]
    assert report["version"] == 1
    assert report["valid"] is False
    assert (report["error_count"], report["warning_count"]) == (3, 0)
    keys = ["code", "severity", "message", "file", "line", "col", "end_line", "end_col", "hint"]
    for d in report["diagnostics"]:
        assert list(d) == keys
        assert d["severity"] == "error"
        assert d["file"] == "three.ato"
    places = [
        (d["code"], d["line"], d["col"], d["end_line"], d["end_col"]) for d in report["diagnostics"]
    ]
    assert places == [
        ("E0101", 11, 26, 11, 27),
        ("E0201", 12, 15, 12, 19),
        ("E0301", 13, 16, 13, 31),
    ]
    assert report["diagnostics"][1]["hint"] == "did you mean 'cpu'?"


def test_valid_file_as_json(tmp_path: Path) -> None:
    (tmp_path / "lamp.ato").write_text(VALID, encoding="utf-8")
    run = atoconf(tmp_path, "check", "--format", "json", "lamp.ato")
    assert run.returncode == 0
    assert json.loads(run.stdout) == {
        "version": 1,
        "valid": True,
        "error_count": 0,
        "warning_count": 0,
        "diagnostics": [],
    }
