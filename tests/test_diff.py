"""`atoconf diff`: the declarations two versions differ in, exactly those, in every
format; a change of layout alone is none; versions with errors report every error."""

from __future__ import annotations

import json
import re
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import atoconf
from atoconf.changes.declarations import declarations
from atoconf.changes.examples import Example, examples
from atoconf.changes.impact import assembly_counts, same_choices, value_changes
from atoconf.language.build import load_text
from atoconf.language.evaluate import evaluate
from atoconf.language.model import Model
from atoconf.language.typecheck import typed_expression
from tests import oracle
from tests.conftest import CATALOGS, cli, git
from tests.strategies import FAST, random_models


def _edited(tmp_path: Path) -> tuple[Path, Path]:
    """The PC catalog, and a copy with a rule's condition changed, a rule renamed, a
    part's length changed, a part added and a rule's layout changed."""
    old = tmp_path / "old"
    new = tmp_path / "new"
    shutil.copytree(CATALOGS / "pc", old)
    shutil.copytree(CATALOGS / "pc", new)
    rules = new / "workstation.ato"
    text = rules.read_text(encoding="utf-8")
    text = text.replace(
        "  cpu.socket == board.socket\n", "  cpu.socket == board.socket and cpu.price < 900\n"
    )
    text = text.replace("rule memory_slots ", "rule memory_slot_count ")
    text = re.sub(r"\n  (memory\.qty <= board)", r"\n      \1", text)  # layout only
    rules.write_text(text, encoding="utf-8")
    gpus = new / "parts" / "gpus.csv"
    lines = gpus.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",190,", ",200,")
    lines.append(lines[2].replace(lines[2].split(",")[0], "GPU-NEW", 1))
    gpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return old / "workstation.ato", rules


def test_the_declarations_changed_and_nothing_else(tmp_path: Path) -> None:
    old, new = _edited(tmp_path)
    ran = cli("diff", str(old), str(new), "-f", "json")
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout)
    assert found["version"] == 1
    shown = found["declarations"]
    assert [(d["kind"], d["name"]) for d in shown["added"]] == [
        ("part", "GPU-NEW"),
        ("rule", "memory_slot_count"),
    ]
    assert [(d["kind"], d["name"]) for d in shown["removed"]] == [("rule", "memory_slots")]
    part, rule = shown["changed"]
    assert part == {
        "kind": "part",
        "name": "GPU-ARC-A380",
        "attributes": {"length_mm": {"old": "190", "new": "200"}},
    }
    assert (rule["kind"], rule["name"]) == ("rule", "socket_match")
    assert rule["old"].endswith("cpu.socket == board.socket")
    assert rule["new"].endswith("cpu.socket == board.socket and cpu.price < 900")


def test_every_format_says_the_same(tmp_path: Path) -> None:
    old, new = _edited(tmp_path)
    text = cli("diff", str(old), str(new)).stdout
    assert text.startswith("declarations: 2 added, 1 removed, 2 changed\n")
    assert "      length_mm: 190 -> 200" in text
    assert re.search(r"\nassemblies: [\d,]+ -> [\d,]+: 0 lost, [\d,]+ gained\n", text)
    # the cheapest assembly gained takes the new GPU (it is cheap), and says so
    assert re.search(
        r"\n  cheapest gained: price [\d.]+: cpu .*gpu GPU-NEW.*\(gpu takes GPU-NEW, not ", text
    )
    assert "cheapest lost" not in text
    markdown = cli("diff", str(old), str(new), "-f", "markdown").stdout
    assert "**Declarations:** 2 added, 1 removed, 2 changed." in markdown
    assert markdown.index("**Declarations:**") < markdown.index("<details>")
    assert "| changed | part | `GPU-ARC-A380` | `length_mm 190 -> 200` |" in markdown
    assert markdown.index("**Valid assemblies:") < markdown.index("**Declarations:**")
    github = cli("diff", str(old), str(new), "-f", "github").stdout.splitlines()
    assert len(github) == 6 and all(line.startswith("::notice file=") for line in github)
    assert "assemblies:" in github[0] and f"file={new},line=1," in github[0]
    socket = next(line for line in github if "'socket_match' changed" in line)
    line = int(re.search(r"line=(\d+)", socket).group(1))  # type: ignore[union-attr]
    assert "rule socket_match" in new.read_text(encoding="utf-8").splitlines()[line - 1]
    removed = next(line for line in github if "removed" in line)
    assert f"file={new},line=1," in removed


def test_a_change_of_layout_alone_is_none(tmp_path: Path) -> None:
    new = tmp_path / "pc"
    shutil.copytree(CATALOGS / "pc", new)
    rules = new / "workstation.ato"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace(
            "  cpu.socket == board.socket\n", "    cpu.socket   ==   board.socket\n"
        ),
        encoding="utf-8",
    )
    ran = cli("diff", str(CATALOGS / "pc" / "workstation.ato"), str(rules), "--fail-on", "any")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("declarations: none changed\nassemblies: ")
    assert ran.stdout.endswith(": 0 lost, 0 gained\n")


SMALL = """product lamp
type T { watts: int }
parts T { "A": watts=1  "B": watts=2  "C": watts=3 }
component a: T
component b: T optional
rule light: a.watts + (if b != none then b.watts else 0) <= 4
test "three and one" {
  given { a = "C", b = "A" }
  expect valid
}
"""


def test_lost_and_gained_gate_ci_and_null_when_the_choices_differ(tmp_path: Path) -> None:
    old = tmp_path / "old.ato"
    old.write_text(SMALL)
    tighter = tmp_path / "tighter.ato"
    tighter.write_text(SMALL.replace("<= 4", "<= 3"))
    both = json.loads(cli("diff", str(old), str(tighter), "-f", "json").stdout)
    counts = both["assemblies"]
    # b = C (3 watts) needs an a of 0 watts: dead
    assert both["values"] == {"dead": [{"choice": "b", "value": "C"}], "alive": []}
    (verdict,) = both["tests"]
    assert verdict == {
        "name": "three and one",
        "file": str(tighter),
        "line": 7,
        "old": "pass",
        "new": "fail",
    }
    said = cli("diff", str(old), str(tighter)).stdout
    assert f"tests: 1 changed verdict\n  three and one: pass -> fail ({tighter}:7:1)" in said
    # watts a + b <= 4: 3 alone + (1,1) (1,2) (1,3) (2,1) (2,2) (3,1) = 9; <= 3 loses
    # (1,3) (2,2) (3,1)
    lost = counts.pop("lost_example")
    assert counts == {
        "old": 9,
        "new": 6,
        "lost": 3,
        "gained": 0,
        "exact": True,
        "gained_example": None,
    }
    # no price: the first of the lost ones, with the rule it breaks
    pair = (lost["components"]["a"]["sku"], lost["components"]["b"]["sku"])
    assert pair in {("A", "C"), ("B", "B"), ("C", "A")} and lost["because"] == "rule light"
    assert cli("diff", str(old), str(tighter), "--fail-on", "lost").returncode == 1
    assert cli("diff", str(old), str(tighter), "--fail-on", "gained").returncode == 0
    assert cli("diff", str(tighter), str(old), "--fail-on", "gained").returncode == 1
    more = tmp_path / "more.ato"
    more.write_text(SMALL + "option gift: bool\n")
    ran = cli("diff", str(old), str(more))
    assert "lost and gained not compared: a component or option was added" in ran.stdout
    assert json.loads(cli("diff", str(old), str(more), "-f", "json").stdout)["assemblies"] == {
        "old": 9,
        "new": 18,
        "lost": None,
        "gained": None,
        "exact": True,
        "lost_example": None,
        "gained_example": None,
    }
    assert cli("diff", str(old), str(more), "--fail-on", "any").returncode == 1


def test_versions_with_errors_report_every_error_of_both(tmp_path: Path) -> None:
    old = tmp_path / "old.ato"
    new = tmp_path / "new.ato"
    old.write_text("product p\ncomponent cpu: Nope\n")
    new.write_text("product p\ncomponent gpu: Neither\n")
    ran = cli("diff", str(old), str(new))
    assert ran.returncode == 2
    assert "old.ato:2:" in ran.stderr and "new.ato:2:" in ran.stderr
    assert ran.stdout == ""


@FAST
@given(random_models(), st.data())
def test_a_rule_dropped_or_added_is_exactly_that(
    model: tuple[str, object], data: st.DataObject
) -> None:
    text, _ = model
    old = load_text(text, "old.ato")
    assert old.model is not None
    lines = text.splitlines()
    rule_lines = [n for n, line in enumerate(lines) if line.startswith("rule ")]
    if rule_lines and data.draw(st.booleans()):
        dropped = data.draw(st.sampled_from(rule_lines))
        name = lines[dropped].split()[1].rstrip(":")
        edited = "\n".join(line for n, line in enumerate(lines) if n != dropped) + "\n"
        expected = ([], [("rule", name)])
    else:
        edited = text + "rule zz_added: true\n"
        expected = ([("rule", "zz_added")], [])
    new = load_text(edited, "new.ato")
    if new.model is None:  # another rule or a test named the dropped rule
        return
    found = declarations(old.model, new.model, old.sources, new.sources)
    assert [(d.kind, d.name) for d in found.added] == expected[0]
    assert [(d.kind, d.name) for d in found.removed] == expected[1]
    assert found.changed == []


# ---- the impact, against brute force ------------------------------------------------------------


def _full_keys(model: Model) -> set[tuple[object, ...]]:
    """Every valid assembly as one choice per component (part and quantity, whatever
    the range) and per option, comparable across versions (True is not 1)."""
    return {_full_key(model, key) for key in oracle.valid_assemblies(model)}


def _full_key(model: Model, key: oracle.Key) -> tuple[object, ...]:
    values = dict(key)
    items: list[object] = []
    for comp in model.components.values():
        sku = values[comp.name]
        qty = values.get(f"{comp.name}.qty", comp.qty_min if sku is not None else 0)
        items.append((comp.name, sku, qty))
    items += [(name, type(values[name]).__name__, values[name]) for name in model.options]
    return tuple(items)


def _price(model: Model, key: oracle.Key) -> Fraction | None:
    """An assembly's total(price), when the product has a price."""
    price = typed_expression(model, "total(price)", "minimize")
    if not price.ok:
        return None
    found = evaluate(model, price.value, oracle.assembly_of(model, key))  # type: ignore[arg-type]
    assert isinstance(found, Fraction)
    return found


def _check_example(example: Example | None, model: Model, beyond: set[tuple[object, ...]]) -> None:
    """The example is one of `beyond` (assemblies of `model` the other version lacks),
    there is one when `beyond` is not empty, and it is the cheapest by price."""
    if not beyond:
        assert example is None
        return
    assert example is not None
    key = oracle.key_from_json(model, example.assembly.to_json())
    assert _full_key(model, key) in beyond
    prices = [
        _price(model, k) for k in oracle.valid_assemblies(model) if _full_key(model, k) in beyond
    ]
    if prices and prices[0] is not None:
        assert _price(model, key) == min(p for p in prices if p is not None)


def _mutated(text: str, data: st.DataObject) -> str:
    """The text with one change: a rule or a part dropped, a number in a part changed,
    a rule added, or a quantity range widened."""
    lines = text.splitlines()
    rules = [n for n, line in enumerate(lines) if line.startswith("rule ")]
    parts = [n for n, line in enumerate(lines) if line.startswith('  "') and "=" in line]
    numbered = [n for n in parts if re.search(r"=-?\d", lines[n])]
    ranged = [
        n for n, line in enumerate(lines) if line.startswith("component ") and " qty " in line
    ]
    kinds = ["add rule"] + ["drop rule"] * bool(rules) + ["drop part"] * bool(parts)
    kinds += ["change number"] * bool(numbered) + ["widen qty"] * bool(ranged)
    kind = data.draw(st.sampled_from(kinds))
    if kind == "drop rule":
        del lines[data.draw(st.sampled_from(rules))]
    elif kind == "drop part":
        del lines[data.draw(st.sampled_from(parts))]
    elif kind == "change number":
        n = data.draw(st.sampled_from(numbered))
        lines[n] = re.sub(r"=(-?\d+)", lambda m: f"={int(m.group(1)) + 1}", lines[n], count=1)
    elif kind == "widen qty":
        n = data.draw(st.sampled_from(ranged))
        lines[n] = re.sub(r"qty (\d+)(\.\.(\d+))?", lambda m: f"qty {m.group(1)}..4", lines[n])
    else:
        names = [line.split()[1] for line in lines if line.startswith("component ")]
        lines.append(f"rule zz_added: count({', '.join(names[:2])}) <= 1" if names else "")
    return "\n".join(lines) + "\n"


@FAST
@given(random_models(), st.data())
def test_lost_and_gained_are_exactly_the_brute_force_ones(
    model: tuple[str, object], data: st.DataObject
) -> None:
    text, _ = model
    old = load_text(text, "old.ato").model
    new = load_text(_mutated(text, data), "new.ato").model
    if old is None or new is None:
        return
    try:
        before, after = _full_keys(old), _full_keys(new)
    except ValueError:  # too many assemblies for brute force
        return
    found = assembly_counts(old, new)
    assert (found.old, found.new, found.exact) == (len(before), len(after), True)
    # values dead or alive: declared by both, taken before and not after, or after only
    took, takes = oracle.domains(old), oracle.domains(new)
    declared = oracle.variables(old)
    expected: dict[str, set[tuple[str, str, object]]] = {"dead": set(), "alive": set()}
    for name, domain in oracle.variables(new).items():
        for value in domain:
            if name not in declared or not any(oracle.same_value(value, v) for v in declared[name]):
                continue
            was = any(oracle.same_value(value, v) for v in took[name])
            now = any(oracle.same_value(value, v) for v in takes[name])
            if was != now:
                expected["dead" if was else "alive"].add((name, type(value).__name__, value))
    changes = value_changes(old, new)
    assert changes.stopped is None
    assert {(n, type(v).__name__, v) for n, v in changes.dead} == expected["dead"]
    assert {(n, type(v).__name__, v) for n, v in changes.alive} == expected["alive"]
    if not same_choices(old, new):
        assert found.lost is None and found.gained is None
        return
    event("lost" if before - after else "none lost")
    assert (found.lost, found.gained) == (len(before - after), len(after - before))
    shown = examples(old, new)
    assert shown.stopped is None
    _check_example(shown.lost, old, before - after)
    _check_example(shown.gained, new, after - before)


def _repository(tmp_path: Path) -> Path:
    """A git repository holding the small product, committed once."""
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "lamp.ato").write_text(SMALL)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "the lamp"]):
        git(folder, *args)
    return folder


def test_git_compares_the_working_tree_with_a_revision(tmp_path: Path) -> None:
    folder = _repository(tmp_path)
    (folder / "lamp.ato").write_text(SMALL.replace("<= 4", "<= 3"))
    ran = cli("diff", "lamp.ato", "--git", "HEAD", "-f", "json", cwd=folder)
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout)
    assert [(d["kind"], d["name"]) for d in found["declarations"]["changed"]] == [("rule", "light")]
    assert (found["assemblies"]["lost"], found["assemblies"]["gained"]) == (3, 0)
    # a file the revision does not have: everything in it is added, only counts compare
    (folder / "new.ato").write_text(SMALL)
    added = json.loads(cli("diff", "new.ato", "--git", "HEAD", "-f", "json", cwd=folder).stdout)
    assert {d["kind"] for d in added["declarations"]["added"]} >= {"part", "rule", "component"}
    assert added["assemblies"]["lost"] is None and added["assemblies"]["gained"] is None
    for args, said in [
        (["lamp.ato", "--git", "no-such-rev"], "no such revision"),
        (["lamp.ato", "lamp.ato", "--git", "HEAD"], "or one and --git REV"),
        ([str(tmp_path / "elsewhere.ato"), "--git", "HEAD"], "not in a git repository"),
    ]:
        (tmp_path / "elsewhere.ato").write_text(SMALL)
        bad = cli("diff", *args, cwd=folder)
        assert bad.returncode == 2 and said in bad.stderr, (args, bad.stderr)


def _pc_edited_for_orders(tmp_path: Path) -> tuple[Path, Path]:
    """The PC catalog, and a copy where CPUs of 8 cores or more no longer fit and the
    RTX 4090 (which an order of the bundled batch pins) is gone."""
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(CATALOGS / "pc", old)
    shutil.copytree(CATALOGS / "pc", new)
    rules = new / "workstation.ato"
    text = rules.read_text(encoding="utf-8").replace(
        "  cpu.socket == board.socket\n", "  cpu.socket == board.socket and cpu.cores < 8\n"
    )
    rules.write_text(text.replace('"GPU-4090"', '"GPU-5090"'), encoding="utf-8")  # its tests
    gpus = new / "parts" / "gpus.csv"
    kept = [
        line for line in gpus.read_text(encoding="utf-8").splitlines() if "GPU-4090," not in line
    ]
    gpus.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return old / "workstation.ato", rules


def _plans(rules: Path, folder: Path) -> dict[str, dict[str, object]]:
    """Each order's status, choices and cost as `atoconf plan` plans the bundled batch."""
    ran = cli(
        "plan", str(rules), "--orders", str(folder / "orders.jsonl"),
        "--stock", str(folder / "stock.csv"), "--supply", str(folder / "supply.csv"),
        "--today", "2026-11-26", "-f", "json",
    )  # fmt: skip
    assert ran.returncode in (0, 1, 2), ran.stderr
    return {
        o["order_id"]: {
            "status": o["status"],
            "assembly": o["assembly"] and (o["assembly"]["components"], o["assembly"]["options"]),
            "cost": o["cost"] and o["cost"]["total"],
        }
        for o in json.loads(ran.stdout)["orders"]
    }


def test_orders_replayed_on_both_versions_are_those_plan_sees_change(tmp_path: Path) -> None:
    old, new = _pc_edited_for_orders(tmp_path)
    folder = CATALOGS / "pc"
    args = ["--orders", str(folder / "orders.jsonl"), "--stock", str(folder / "stock.csv")]
    args += ["--supply", str(folder / "supply.csv"), "--today", "2026-11-26"]
    ran = cli("diff", str(old), str(new), *args, "-f", "json")
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout)["orders"]
    before, after = _plans(old, old.parent), _plans(new, new.parent)
    assert found["planned"] == len(before) == 36
    expected = {
        order: [what for what in ("status", "assembly", "cost") if was[what] != after[order][what]]
        for order, was in before.items()
        if order in after
    }
    listed = {o["order_id"]: o for o in found["changed"]}
    assert {k: v["changed"] for k, v in listed.items() if v["new"]} == {
        k: v for k, v in expected.items() if v
    }
    assert len(listed) > 3  # the change moves several orders off their CPU
    # the order pinning the removed GPU: the new version cannot read it, and says why
    gone = listed["A-1002"]
    assert gone["new"] is None and "GPU-4090" in gone["because"]
    for order in listed.values():
        if order["new"] is not None:
            assert order["old"]["status"] == before[order["order_id"]]["status"]
            assert order["new"]["status"] == after[order["order_id"]]["status"]
    text = cli("diff", str(old), str(new), *args).stdout
    assert f"\norders: {len(listed)} of 36 planned differently\n" in text
    said = r"\n  A-1002: \w+ -> not read by the new version: select.gpu: unknown part .*GPU-4090"
    assert re.search(said, text)


def test_a_request_narrows_the_comparison(tmp_path: Path) -> None:
    old = tmp_path / "old.ato"
    old.write_text(SMALL)
    tighter = tmp_path / "tighter.ato"
    tighter.write_text(SMALL.replace("<= 4", "<= 3"))
    ran = cli("diff", str(old), str(tighter), "--set", "a=C", "-f", "json")
    assert ran.returncode == 0, ran.stderr
    counts = json.loads(ran.stdout)["assemblies"]
    # a = C (3 watts): b none or A before, none alone after
    assert (counts["old"], counts["new"], counts["lost"], counts["gained"]) == (2, 1, 1, 0)
    assert counts["lost_example"]["components"]["b"]["sku"] == "A"
    request = tmp_path / "request.json"
    request.write_text('{"select": {"a": "A"}, "require": ["b != none"]}')
    counts = json.loads(
        cli("diff", str(old), str(tighter), "--request", str(request), "-f", "json").stdout
    )["assemblies"]
    # a = A (1 watt) with b: A, B or C before (up to 4); A or B after (up to 3)
    assert (counts["old"], counts["new"], counts["lost"], counts["gained"]) == (3, 2, 1, 0)
    bad = cli("diff", str(old), str(tighter), "--set", "a=Z")
    assert bad.returncode == 2 and "(in the old version)" in bad.stderr


def test_the_api_answers_as_the_command_does(tmp_path: Path) -> None:
    old, new = _edited(tmp_path)
    found = atoconf.diff(atoconf.load(old), atoconf.load(new))
    assert found.to_json() == json.loads(cli("diff", str(old), str(new), "-f", "json").stdout)
    assert found.examples.gained is not None and found.examples.lost is None
    small, tighter = tmp_path / "small.ato", tmp_path / "tighter.ato"
    small.write_text(SMALL)
    tighter.write_text(SMALL.replace("<= 4", "<= 3"))
    asked = atoconf.diff(atoconf.load(small), atoconf.load(tighter), {"a": "C"})
    command = cli("diff", str(small), str(tighter), "--set", "a=C", "-f", "json").stdout
    assert asked.to_json() == json.loads(command)
    assert (asked.assemblies.lost, asked.assemblies.gained) == (1, 0)
    with pytest.raises(atoconf.RequestError, match="unknown part"):
        atoconf.diff(atoconf.load(small), atoconf.load(tighter), {"a": "Z"})


def test_a_widened_quantity_gains_only_the_new_quantities() -> None:
    """A fixed quantity is no variable: the old version offers it (and 0, absent, for
    an optional component), so neither is gained (absent is the cheapest, were it)."""
    text = 'product p\ntype T { price: decimal }\nparts T { "A": price=5 }\n'
    text += "component c: T qty 2 optional\n"
    old = load_text(text, "old.ato").model
    new = load_text(text.replace("qty 2", "qty 2..4"), "new.ato").model
    assert old is not None and new is not None
    found = examples(old, new)
    assert found.lost is None and found.gained is not None
    chosen = found.gained.assembly.components["c"]
    assert chosen is not None and chosen.qty in (3, 4)
    assert (assembly_counts(old, new).lost, assembly_counts(old, new).gained) == (0, 2)


def test_a_bad_batch_is_told_before_the_comparison(tmp_path: Path) -> None:
    old = tmp_path / "old.ato"
    old.write_text(SMALL)
    new = tmp_path / "new.ato"
    new.write_text(SMALL.replace("<= 4", "<= 3"))
    orders = tmp_path / "orders.jsonl"
    orders.write_text(
        '{"order_id": "O-1", "due": "2026-12-10", "request": {"select": {"a": "A"}}}\n'
    )
    missing = tmp_path / "missing.csv"
    ran = cli("diff", str(old), str(new), "--orders", str(orders), "--stock", str(missing))
    assert ran.returncode == 2 and "missing.csv" in ran.stderr and ran.stdout == ""
    alone = cli("diff", str(old), str(new), "--orders", str(orders))
    assert alone.returncode == 2 and "--orders and --stock go together" in alone.stderr
    orders.write_text(
        '{"order_id": "O-1", "due": "2026-12-10", "request": {"select": {"a": "Z"}}}\n'
    )
    stock = tmp_path / "stock.csv"
    stock.write_text("sku,location,on_hand,reserved\nA,S-1,3,0\n")
    bad = cli("diff", str(old), str(new), "--orders", str(orders), "--stock", str(stock))
    assert bad.returncode == 2 and "orders.jsonl:1:" in bad.stderr
    assert "(in the old version)" in bad.stderr and bad.stdout == ""
