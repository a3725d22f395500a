"""Progress on long work: a bar of done / total on a terminal (stderr a pseudo-terminal
here), nothing in pipes or under CI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from atoconf import load_file
from tests.conftest import CATALOGS, checkout_env, cli

pty = pytest.importorskip("pty")

WORKSTATION = CATALOGS / "pc" / "workstation.ato"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _on_a_terminal(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `atoconf ARGS` with stderr a terminal and CI unset;
    stderr without its colour and cursor codes."""
    master, child = pty.openpty()
    stdout = tmp_path / "stdout.txt"
    env = checkout_env({"CI": None, "TERM": "xterm", "COLUMNS": "120", "NO_COLOR": None})
    with stdout.open("wb") as out:
        running = subprocess.Popen(
            [sys.executable, "-m", "atoconf", *args],
            cwd=WORKSTATION.parent,
            stdout=out,
            stderr=child,
            env=env,
        )
        os.close(child)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child's end closed
                break
            if not data:
                break
            chunks.append(data)
        code = running.wait(timeout=300)
    os.close(master)
    shown = _ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))
    return code, stdout.read_text(encoding="utf-8"), shown


def _last_done(shown: str, label: str) -> tuple[int, int]:
    """The last `done/total` the bar labelled `label` showed."""
    found = re.findall(rf"{label}\W+(\d+)/(\d+)", shown)
    assert found, f"no {label} bar in {shown[-400:]!r}"
    done, total = found[-1]
    return int(done), int(total)


def test_lints_show_rules_checked_of_all(tmp_path: Path) -> None:
    model = load_file(WORKSTATION).model
    assert model is not None
    code, _, shown = _on_a_terminal(tmp_path, "check", WORKSTATION.name)
    assert code in (0, 1)
    assert _last_done(shown, "linting") == (1 + 2 * len(model.rules),) * 2


def test_tests_and_coverage_show_their_work_of_all(tmp_path: Path) -> None:
    model = load_file(WORKSTATION).model
    assert model is not None
    code, out, shown = _on_a_terminal(tmp_path, "test", "--coverage", WORKSTATION.name)
    assert code == 0, out + shown
    assert _last_done(shown, "testing") == (len(model.tests) + len(model.rules),) * 2


def test_batch_plans_show_orders_done_of_all(tmp_path: Path) -> None:
    orders = (WORKSTATION.parent / "orders.jsonl").read_text(encoding="utf-8").splitlines()
    args = ("plan", WORKSTATION.name, "--stock", "stock.csv", "--orders", "orders.jsonl")
    code, _, shown = _on_a_terminal(tmp_path, *args, "--today", "2026-12-07")
    assert code in (0, 1)
    assert _last_done(shown, "orders planned") == (len(orders),) * 2


def test_a_count_shows_its_time_against_the_deadline(tmp_path: Path) -> None:
    code, out, shown = _on_a_terminal(tmp_path, "count", WORKSTATION.name, "--deadline", "7")
    assert code == 0
    assert "counting" in shown and "(stops at 7 s)" in shown
    assert out.strip()  # the count itself went to stdout


def test_nothing_in_a_pipe_or_under_ci() -> None:
    for env in ({"CI": None}, {"CI": "true"}):
        ran = cli("check", WORKSTATION.name, cwd=WORKSTATION.parent, env=env)
        assert "linting" not in ran.stderr and "━" not in ran.stderr
