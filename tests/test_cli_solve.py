"""End to end: `atoconf solve|count|domains` on real rule files."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import atoconf
from atoconf.language.evaluate import Assembly, holds
from atoconf.language.model import shown
from tests.conftest import BIKE, PC, SMALL, cli


def _valid(model: atoconf.Model, assembly: dict[str, object]) -> bool:
    components = assembly["components"]
    options = assembly["options"]
    assert isinstance(components, dict) and isinstance(options, dict)
    chosen = {
        name: (None, 0) if c is None else (c["sku"], c["qty"]) for name, c in components.items()
    }
    whole = Assembly(chosen, options)
    return all(holds(model, rule.expr, whole) for rule in model.rules.values())


def test_solve_json_shape_and_every_assembly_valid() -> None:
    out = cli("solve", str(BIKE), "--limit", "3", "--format", "json", "--set", "usage=gravel")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert list(data) == ["version", "assemblies", "stopped"]
    assert data["version"] == 1 and data["stopped"] is None and len(data["assemblies"]) == 3
    model = atoconf.load(BIKE)
    for assembly in data["assemblies"]:
        assert list(assembly) == ["components", "options"]
        assert set(assembly["components"]) == set(model.components)
        assert assembly["options"]["usage"] == "gravel"
        assert _valid(model, assembly)
    assert len({json.dumps(a, sort_keys=True) for a in data["assemblies"]}) == 3


def test_solve_minimize_lists_best_first() -> None:
    out = cli(
        "solve", str(SMALL), "--minimize", "total(price)", "--limit", "6", "--format", "jsonl"
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 6
    values = [float(line["objective"]) for line in lines]
    assert values == sorted(values)
    # the cheapest board has a negative price (a rebate): it is in the best assembly
    assert lines[0]["components"]["board"]["sku"] == "MB-B"


def test_count_json_shape_and_agrees_with_the_rule_file_test() -> None:
    out = cli(
        "count", str(SMALL), "--set", "usage=office", "--set", "cpu=CPU-A", "--set", "gpu=none",
        "--format", "json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"version": 1, "count": 24, "exact": True, "stopped": None}


def test_domains_json_shape() -> None:
    out = cli("domains", str(SMALL), "--set", "cpu=CPU-B", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert list(data) == ["version", "satisfiable", "domains"]
    assert data["domains"]["cpu"] == ["CPU-B"]
    assert data["domains"]["board"] == ["MB-B"]  # MB-A has no LGA1700 socket
    assert "gpu.qty" in data["domains"] and 0 in data["domains"]["gpu.qty"]


def test_no_valid_assembly() -> None:
    args = ("--set", "cpu=CPU-B", "--set", "board=MB-A")
    solved = cli("solve", str(SMALL), *args)
    assert solved.returncode == 1 and "atoconf explain" in solved.stderr
    counted = cli("count", str(SMALL), *args, "--format", "json")
    assert counted.returncode == 0 and json.loads(counted.stdout)["count"] == 0
    domains = cli("domains", str(SMALL), *args, "--format", "json")
    assert domains.returncode == 1
    assert json.loads(domains.stdout) == {"version": 1, "satisfiable": False, "domains": {}}


def test_bad_requests_exit_2_naming_the_field(tmp_path: Path) -> None:
    bad = cli("solve", str(SMALL), "--set", "cpu=CPU-Z", "--require", "gpu.vrm > 1")
    assert bad.returncode == 2
    assert "select.cpu" in bad.stderr and "require[0]:1:5" in bad.stderr
    assert "Traceback" not in bad.stderr
    request = tmp_path / "order.json"
    request.write_text('{"select": {"cpu": "CPU-A",}}\n')
    malformed = cli("solve", str(SMALL), str(request))
    assert malformed.returncode == 2 and "order.json:1:" in malformed.stderr


def test_request_file_and_flags_combine(tmp_path: Path) -> None:
    request = tmp_path / "order.json"
    request.write_text(json.dumps({"select": {"usage": "gaming"}, "limit": 2}))
    out = cli("solve", str(SMALL), str(request), "--set", "cpu=CPU-A", "--format", "json")
    assert out.returncode == 0, out.stderr
    assemblies = json.loads(out.stdout)["assemblies"]
    assert len(assemblies) == 2
    assert all(a["options"]["usage"] == "gaming" for a in assemblies)
    assert all(a["components"]["cpu"]["sku"] == "CPU-A" for a in assemblies)
    assert all(a["components"]["gpu"] is not None for a in assemblies)  # rule `choice`


def test_select_errors_point_into_the_request_file(tmp_path: Path) -> None:
    request = tmp_path / "order.json"
    request.write_text('{"select": {\n  "usage": "office",\n  "cpu": "CPU-Z"\n}}\n')
    out = cli("solve", str(SMALL), str(request))
    assert out.returncode == 2
    assert "order.json:3:3: error[E0706]: select.cpu" in out.stderr
    assert '3 |   "cpu": "CPU-Z"' in out.stderr


def test_text_table_shows_key_attributes_on_a_wide_terminal_only() -> None:
    args = ("solve", str(PC), "--set", "usage=gaming", "--minimize", "total(price)", "--limit", "1")
    wide = cli(*args, env={"COLUMNS": "140"})
    narrow = cli(*args)  # a pipe: rich's default 80 columns
    assert wide.returncode == narrow.returncode == 0, wide.stderr + narrow.stderr
    # the cheapest gaming build's CPU row, with the attributes the rules read
    model = atoconf.load(PC)
    cpu_line = next(line for line in wide.stdout.splitlines() if "│ cpu " in line)
    sku = cpu_line.split("│")[2].strip()
    assert f"socket={model.parts[sku].values['socket']}" in cpu_line
    assert "key attributes" in wide.stdout and "key attributes" not in narrow.stdout
    assert "objective" in wide.stdout and "price" in narrow.stdout


def test_text_table_has_line_totals_and_the_total_and_a_whole_objective() -> None:
    args = ("solve", str(PC), "--set", "usage=gaming", "--set", "memory.qty=2", "--limit", "1")
    ran = cli(*args, "--minimize", "total(price)", env={"COLUMNS": "140"})
    assert ran.returncode == 0, ran.stderr
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in ran.stdout.splitlines()
        if line.startswith("│") and line.split("│")[1].strip()
    ]
    lines = {row[0]: row for row in rows}
    memory = lines["memory"]
    assert Decimal(memory[-1]) == 2 * Decimal(memory[-2])  # qty 2 x the unit price
    parts = sum(Decimal(row[-1]) for name, row in lines.items() if name != "total" and row[-1])
    assert Decimal(lines["total"][-1]) == parts
    objective = ran.stdout.splitlines()[0]
    assert objective.strip().endswith(f"(objective {parts})")
    # a total of whole numbers is printed whole
    watts = cli(*args, "--minimize", "total(tdp)")
    first = watts.stdout.splitlines()[0].strip()
    assert first.startswith("Assembly 1  (objective ") and "." not in first


def test_solve_says_which_option_defaults_narrowed_its_list() -> None:
    """`solve` fills open options with their defaults; it says which, and without them
    it lists as many assemblies as `count` counts."""
    small = str(SMALL)
    listed = cli("solve", small, "--limit", "0", "-f", "json", in_process=True)
    assert listed.returncode == 0, listed.stderr
    model = atoconf.load(SMALL)
    defaults = {o.name: o.default for o in model.model.options.values() if o.has_default}
    assert defaults  # the small product has some, so the note has something to say
    filled = ", ".join(f"{k}={shown(v)}" for k, v in defaults.items())
    assert f"option defaults filled in: {filled}" in listed.stderr
    everything = cli("solve", small, "--limit", "0", "--no-defaults", "-f", "json", in_process=True)
    assert "option defaults" not in everything.stderr
    counted = json.loads(cli("count", small, "-f", "json", in_process=True).stdout)["count"]
    assert len(json.loads(everything.stdout)["assemblies"]) == counted
    assert len(json.loads(listed.stdout)["assemblies"]) < counted
    # count and domains say the same when asked to fill the defaults in
    for command in ("count", "domains"):
        narrowed = cli(command, small, "--defaults", "-f", "json", in_process=True)
        assert f"option defaults filled in: {filled}" in narrowed.stderr, command
        plain = cli(command, small, "-f", "json", in_process=True)
        assert "option defaults" not in plain.stderr, command
    narrowed_count = cli("count", small, "--defaults", "-f", "json", in_process=True)
    assert json.loads(narrowed_count.stdout)["count"] == len(
        json.loads(listed.stdout)["assemblies"]
    )
