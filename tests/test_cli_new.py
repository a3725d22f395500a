"""`atoconf new NAME`: the product it writes passes every check as written."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import cli


def test_a_new_product_is_checked_tested_formatted_and_plans(tmp_path: Path) -> None:
    made = cli("new", "demo_desk", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "demo_desk"
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert files == [
        "demo_desk.ato",
        "orders.jsonl",
        "parts/tops.csv",
        "stock.csv",
        "supply.csv",
    ]
    rules = "demo_desk.ato"
    checked = cli("check", "--strict", rules, "--stock", "stock.csv", cwd=folder)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = cli("test", "--coverage-min", "100", rules, cwd=folder)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "3/3 rules (100.0%)" in tested.stdout
    formatted = cli("fmt", "--check", rules, cwd=folder)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    args = ("plan", rules, "--stock", "stock.csv", "--orders", "orders.jsonl")
    planned = cli(*args, "--today", "2026-12-07", "-f", "json", cwd=folder)
    assert planned.returncode == 0, planned.stderr
    statuses = {o["order_id"]: o["status"] for o in json.loads(planned.stdout)["orders"]}
    assert statuses == {"D-1": "short", "D-2": "buildable", "D-3": "buildable"}


def test_new_refuses_a_bad_name_and_an_existing_folder(tmp_path: Path) -> None:
    bad = cli("new", "Standing Desk", cwd=tmp_path)
    assert bad.returncode == 2 and "not a product name" in bad.stderr
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "desk").mkdir()
    (tmp_path / "desk" / "notes.txt").write_text("mine")
    taken = cli("new", "desk", cwd=tmp_path)
    assert taken.returncode == 2 and "desk already exists" in taken.stderr
    assert [p.name for p in (tmp_path / "desk").iterdir()] == ["notes.txt"]
