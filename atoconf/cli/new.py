"""`atoconf new NAME`: a small product to start from, tested, linted and formatted as it
is written (a standing desk: a parts file, rules, steps, tests, stock and orders)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from atoconf.cli.common import EXIT_BAD_INPUT, Command, app, fail_usage

_NAME = re.compile(r"[a-z][a-z0-9_]*")

RULES = """\
product {name} "Standing desk"

type Top {{
  width_mm: int unit "mm"
  price: decimal unit "EUR"
}}
type Frame {{
  max_width_mm: int unit "mm"
  motors: int
  price: decimal unit "EUR"
}}
type Drawer {{
  width_mm: int unit "mm"
  price: decimal unit "EUR"
}}

parts Top from "parts/tops.csv"
parts Frame {{
  "FR-1M" "Single-motor frame": max_width_mm=1400, motors=1, price=249.00
  "FR-2M" "Dual-motor frame": max_width_mm=1800, motors=2, price=399.00
}}
parts Drawer {{
  "DR-50" "Drawer, 50 cm": width_mm=500, price=39.00
}}

component top: Top
component frame: Frame
component drawer: Drawer optional
option usage: enum {{ home, office }} default home

rule top_fits_frame "The frame carries the top's width":
  top.width_mm <= frame.max_width_mm
rule drawer_fits "A drawer needs a top at least twice as wide":
  drawer != none -> top.width_mm >= 2 * drawer.width_mm
rule office_dual_motor "Office desks lift with two motors":
  usage == office -> frame.motors == 2

step mount_frame "Mount the frame under the top": uses top, frame; minutes 20
step fit_drawer "Fit the drawer": uses drawer; after mount_frame; minutes 10
step pack "Test the lift and pack": after mount_frame, fit_drawer; minutes 15

test "a home desk with a drawer" {{
  given {{ top = "TOP-120", frame = "FR-1M", drawer = "DR-50" }}
  expect valid
}}

test "a wide top needs the wide frame" {{
  given {{ top = "TOP-160", frame = "FR-1M" }}
  expect invalid because top_fits_frame
}}

test "a small top takes no drawer" {{
  given {{ top = "TOP-080", drawer = "DR-50" }}
  expect invalid because drawer_fits
}}

test "office desks have two motors" {{
  given {{ usage = office, frame = "FR-1M" }}
  expect invalid because office_dual_motor
}}
"""

FILES = {
    "parts/tops.csv": (
        "sku,name,width_mm,price\n"
        "TOP-080,Oak top 80 cm,800,129.00\n"
        "TOP-120,Oak top 120 cm,1200,179.00\n"
        "TOP-160,Oak top 160 cm,1600,229.00\n"
    ),
    "stock.csv": (
        "sku,location,on_hand,reserved\n"
        "TOP-080,A-01,4,0\n"
        "TOP-120,A-02,2,0\n"
        "FR-1M,B-01,3,0\n"
        "FR-2M,B-02,1,0\n"
        "DR-50,C-01,5,0\n"
    ),
    "supply.csv": (
        "sku,lead_days,unit_cost\n"
        "TOP-080,5,90.00\n"
        "TOP-120,5,125.00\n"
        "TOP-160,7,160.00\n"
        "FR-1M,10,175.00\n"
        "FR-2M,10,280.00\n"
        "DR-50,3,25.00\n"
    ),
    "orders.jsonl": (
        '{"order_id": "D-1", "due": "2026-12-18", '
        '"request": {"select": {"usage": "office", "top": "TOP-160"}}}\n'
        '{"order_id": "D-2", "due": "2026-12-11", '
        '"request": {"select": {"drawer": "DR-50"}}}\n'
        '{"order_id": "D-3", "due": "2026-12-14", "request": {}}\n'
    ),
}


@app.command(cls=Command)
def new(
    name: Annotated[
        str,
        typer.Argument(
            help="The product's name: a folder of this name is made, with NAME.ato in it.",
            show_default=False,
        ),
    ],
) -> None:
    """Start a product: a folder with a rule file (parts, rules, steps and tests that
    cover every rule), a parts CSV, stock.csv, supply.csv and orders.jsonl, ready for
    `atoconf check --strict`, `atoconf test --coverage` and `atoconf plan`.

    Exit 2 when NAME is not a name or its folder already exists.
    """
    if not _NAME.fullmatch(name):
        fail_usage(
            f"'{name}' is not a product name: use lowercase letters, digits and '_', "
            "starting with a letter (such as standing_desk)"
        )
    folder = Path(name)
    if folder.exists():
        typer.echo(f"error: {folder} already exists; choose another name or move it away", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    (folder / "parts").mkdir(parents=True)
    (folder / f"{name}.ato").write_text(RULES.format(name=name), encoding="utf-8")
    for relative, text in FILES.items():
        (folder / relative).write_text(text, encoding="utf-8")
    made = [f"{name}.ato", *FILES]
    typer.echo(f"made {folder}/: " + ", ".join(made))
    typer.echo(
        "next:\n"
        f"  cd {name}\n"
        f"  atoconf check --strict {name}.ato\n"
        f"  atoconf test --coverage {name}.ato\n"
        f"  atoconf plan {name}.ato --stock stock.csv --orders orders.jsonl"
    )
