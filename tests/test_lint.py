"""Lint (atoconf.engine.check, SPEC §5): the solver's lints against brute force on random
products, and each lint, the ignore comment, --strict and the deadline on the
command line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given

from atoconf.engine.check import check_files, lint_model
from atoconf.engine.problem import compiled
from atoconf.engine.propagate import qty_var
from atoconf.language.diagnostics import Diagnostic
from atoconf.language.evaluate import holds
from atoconf.language.model import Binary, Model
from tests import oracle
from tests.conftest import CATALOGS, cli, load_model
from tests.strategies import FAST, random_models


def lines_of(model: Model, code: str) -> set[int]:
    return {d.span.line for d in lint_model(model, 60.0) if d.code == code and d.span}


def expected_dead_lines(model: Model, keys: list[oracle.Key]) -> tuple[set[int], set[int]]:
    """The lines of W0302 (parts, false optionals, quantities) and W0303 (options)."""
    seen = oracle.domains_of(model, keys)
    variables = compiled(model).variables
    live = {sku for comp in model.components.values() for sku in seen[comp.name]}
    dead = set()
    for comp in model.components.values():
        for sku in comp.parts:
            if sku not in live:
                dead.add(model.parts[sku].span.line)
        if comp.optional and None not in seen[comp.name]:
            dead.add(comp.span.line)
        qty = qty_var(comp.name)
        if qty in seen and any(q and q not in seen[qty] for q in variables[qty].domain):
            dead.add(comp.span.line)
    options = {
        o.span.line
        for o in model.options.values()
        if any(not any(oracle.same_value(v, s) for s in seen[o.name]) for v in o.values)
    }
    return dead, options


@FAST
@given(random_models())
def test_solver_lints_match_brute_force(case: tuple[str, Model]) -> None:
    text, model = case
    keys = oracle.valid_assemblies(model)
    assert bool(lines_of(model, "W0301")) == (not keys), text
    if not keys:
        return
    dead, options = expected_dead_lines(model, keys)
    assert lines_of(model, "W0302") == dead, text
    assert lines_of(model, "W0303") == options, text

    def never_fires(name: str, rules: list[str]) -> bool:
        expr = model.rules[name].expr
        if not isinstance(expr, Binary) or expr.op != "implies":
            return False
        others = [r for r in rules if r != name]
        return not oracle.valid_assemblies(model, {}, [expr.left], others)

    fires = {model.rules[n].span.line for n in model.rules if never_fires(n, list(model.rules))}
    assert lines_of(model, "W0305") == fires, text
    # redundancy as documented: last rule first, a redundant rule leaves the pool
    kept = list(model.rules)
    redundant = set()
    for name in reversed(list(model.rules)):
        others = [r for r in kept if r != name]
        if never_fires(name, kept):
            continue
        rule = model.rules[name]
        under_others = oracle.valid_assemblies(model, {}, (), others)
        if all(holds(model, rule.expr, oracle.assembly_of(model, k)) for k in under_others):
            kept.remove(name)
            redundant.add(rule.span.line)
    assert lines_of(model, "W0304") == redundant, text


# ---- on the command line -----------------------------------------------------------------

SEEDED = """\
product lamp "Desk lamp"
enum Finish { black, white, brass }
type Shade {
  diameter_mm: int unit "mm"
  finish: Finish
}
type Base { max_shade_mm: int unit "mm" }
type Bulb { watts: int }
parts Shade {
  "SH-20" "Shade 20 cm": diameter_mm=200, finish=black
  "SH-40" "Shade 40 cm": diameter_mm=400, finish=white
  "SH-90" "Shade 90 cm": diameter_mm=900, finish=white
  "SH-99" "Floor shade": diameter_mm=990, finish=black
}
parts Base {
  "BASE-S" "Small base": max_shade_mm=300
  "BASE-L" "Large base": max_shade_mm=500
}
parts Bulb { "B-5": watts=5 }
component shade: Shade optional where diameter_mm < 950
component base: Base
option gift_wrap: bool default false
option size: enum { small, large } default small
rule shade_fits: shade.diameter_mm <= base.max_shade_mm
rule not_too_big: shade.diameter_mm <= base.max_shade_mm + 100
rule wide: shade.diameter_mm > 1000 -> base == "BASE-L"
rule sizes: size == large -> base == "BASE-L"
step fit_shade "Fit the shade": minutes 3
"""

# (code, line) of every warning SEEDED should get
SEEDED_WARNINGS = {
    ("W0309", 2),  # brass
    ("W0310", 8),  # type Bulb
    ("W0302", 12),  # SH-90 is dead
    ("W0306", 13),  # SH-99: no component can use it
    ("W0308", 22),  # gift_wrap
    ("W0304", 25),  # not_too_big follows from shade_fits
    ("W0305", 26),  # wide never applies
    ("W0307", 28),  # fit_shade uses nothing
}


def check_json(tmp_path: Path, text: str, *flags: str) -> tuple[int, dict[str, object]]:
    (tmp_path / "lamp.ato").write_text(text, encoding="utf-8")
    result = cli("check", str(tmp_path / "lamp.ato"), "-f", "json", *flags, in_process=True)
    return result.returncode, json.loads(result.stdout)


def found(report: dict[str, object]) -> set[tuple[str, int]]:
    diagnostics = report["diagnostics"]
    assert isinstance(diagnostics, list)
    return {(d["code"], d["line"]) for d in diagnostics}


def test_seeded_warnings_at_their_lines(tmp_path: Path) -> None:
    code, report = check_json(tmp_path, SEEDED)
    assert code == 0
    assert found(report) == SEEDED_WARNINGS
    assert report["valid"] is True and report["warning_count"] == len(SEEDED_WARNINGS)


def test_strict_fails_on_warnings(tmp_path: Path) -> None:
    code, _ = check_json(tmp_path, SEEDED, "--strict")
    assert code == 1


def test_void_model_at_its_product_line(tmp_path: Path) -> None:
    text = SEEDED.replace('rule sizes: size == large -> base == "BASE-L"', "rule sizes: false")
    _, report = check_json(tmp_path, text)
    voids = [d for d in report["diagnostics"] if d["code"] == "W0301"]  # type: ignore[attr-defined]
    assert [(d["line"], d["col"]) for d in voids] == [(1, 1)]
    assert "sizes" in voids[0]["hint"]
    # a void model has no dead parts or redundant rules to speak of
    assert not {c for c, _ in found(report)} & {"W0302", "W0303", "W0304", "W0305"}


def test_ignore_comments_silence_one_code_on_one_line(tmp_path: Path) -> None:
    text = SEEDED.replace(
        "rule not_too_big: shade.diameter_mm <= base.max_shade_mm + 100",
        "rule not_too_big: shade.diameter_mm <= base.max_shade_mm + 100  # atoconf: ignore[W0304]",
    ).replace(
        "option gift_wrap: bool default false",
        "# kept for the order form  atoconf: ignore[W0301]\n"
        "# atoconf: ignore[W0302, W0308]\n"
        "option gift_wrap: bool default false",
    )
    _, report = check_json(tmp_path, text)
    codes = found(report)
    assert ("W0304", 25 + 2) not in codes and ("W0308", 22 + 2) not in codes
    assert ("W0305", 26 + 2) in codes  # the others stay


def test_an_ignore_comment_works_on_any_line_of_the_rule(tmp_path: Path) -> None:
    """`fmt` writes a described rule on two lines, its condition on the second: the
    comment belongs there as well as on the first."""
    rule = "rule not_too_big: shade.diameter_mm <= base.max_shade_mm + 100"
    for written in (
        'rule not_too_big "Some room":\n  shade.diameter_mm <= base.max_shade_mm + 100'
        "  # atoconf: ignore[W0304]",
        'rule not_too_big "Some room":  # atoconf: ignore[W0304]\n'
        "  shade.diameter_mm <= base.max_shade_mm + 100",
    ):
        _, report = check_json(tmp_path, SEEDED.replace(rule, written))
        codes = {c for c, _ in found(report)}
        assert "W0304" not in codes and "W0305" in codes, written
    _, report = check_json(
        tmp_path,
        SEEDED.replace(
            rule, 'rule not_too_big "Some room":\n  shade.diameter_mm <= base.max_shade_mm + 100'
        ),
    )
    assert "W0304" in {c for c, _ in found(report)}  # and without it, it is said


def test_deadline_says_what_was_cut_short(tmp_path: Path) -> None:
    _, report = check_json(tmp_path, SEEDED, "--lint-deadline", "0.000001")
    codes = {c for c, _ in found(report)}
    assert "W0311" in codes and not codes & {"W0302", "W0304", "W0305"}
    # the lints that need no solver still ran
    assert {"W0306", "W0307", "W0308", "W0309", "W0310"} <= codes


def test_no_lint_and_bad_deadline(tmp_path: Path) -> None:
    code, report = check_json(tmp_path, SEEDED, "--no-lint")
    assert code == 0 and report["diagnostics"] == []
    result = cli("check", str(tmp_path / "lamp.ato"), "--lint-deadline", "0", in_process=True)
    assert result.returncode == 2 and "--lint-deadline" in result.stderr


LIBRARY = """\
enum Finish { black, white, brass }
type Shade { finish: Finish }
parts Shade {
  "SH-B": finish=black
  "SH-W": finish=white
}
"""


def test_library_declarations_are_judged_across_products(tmp_path: Path) -> None:
    """brass is used by neither product: reported once; SH-W is dead in a but not in b."""
    (tmp_path / "lib.ato").write_text(LIBRARY)
    (tmp_path / "a.ato").write_text(
        'product a\nimport "lib.ato"\ncomponent shade: Shade\nrule r: shade.finish == black\n'
    )
    (tmp_path / "b.ato").write_text(
        'product b\nimport "lib.ato"\ncomponent shade: Shade\n'
        "rule r: shade.finish in { black, white }\n"
    )
    both = check_files([tmp_path / "a.ato", tmp_path / "b.ato"])
    on_library = [(d.code, d.message) for d in both.diagnostics if d.span.file.endswith("lib.ato")]
    assert on_library == [
        ("W0309", "member 'brass' of enum 'Finish' is used by no part, option or rule")
    ]
    # a alone: white is dead in a, but a is the only product that imports the library
    alone = check_files([tmp_path / "a.ato"])
    assert any(d.code == "W0302" and "SH-W" in d.message for d in alone.diagnostics)
    assert not any(d.code == "W0302" and "SH-W" in d.message for d in both.diagnostics)


@pytest.mark.parametrize("catalog", ["pc/workstation.ato", "bike/bicycle.ato"])
def test_catalogs_pass_strict(catalog: str) -> None:
    result = cli("check", "--strict", str(CATALOGS / catalog), in_process=True)
    assert result.returncode == 0, result.stdout


def test_a_tautology_is_redundant() -> None:
    model = load_model("product p\noption o: bool\nrule r: o or not o\n", "p.ato")
    codes = [d.code for d in lint_model(model)]
    assert codes == ["W0304"]  # a tautology holds in every assembly


def test_what_a_lint_found_before_its_deadline_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from atoconf.engine import check
    from atoconf.engine.clock import Clock, Stop
    from atoconf.language.diagnostics import warning

    model = load_model(SEEDED, "lamp.ato")
    rule = model.rules["shade_fits"]

    def half_done(model: Model, clock: Clock, tick: Callable[[], None]) -> Iterator[Diagnostic]:
        yield warning("W0304", "found before the deadline", rule.span)
        raise Stop("deadline")

    monkeypatch.setattr(check, "SOLVER_LINTS", (half_done, check.SOLVER_LINTS[0]))
    found = [(d.code, d.message) for d in lint_model(model) if d.code in ("W0304", "W0311")]
    assert found[0] == ("W0304", "found before the deadline")
    assert [code for code, _ in found] == ["W0304", "W0311"]  # and nothing after the stop


def test_the_lints_report_their_progress_to_the_end(tmp_path: Path) -> None:
    """Done never goes back, the total is each rule twice and the domains, and the
    last report is the whole of it: also when the model is void and the lints stop."""
    void_rule = 'rule never: base == "BASE-S" and base == "BASE-L"\n'
    for text, void in [(SEEDED, False), (SEEDED + void_rule, True)]:
        path = tmp_path / "lamp.ato"
        path.write_text(text, encoding="utf-8")
        heard: list[tuple[int, int]] = []
        result = check_files([path], report=lambda done, total, h=heard: h.append((done, total)))
        (model,) = result.models
        total = 1 + 2 * len(model.rules)
        assert ("W0301" in {d.code for d in result.diagnostics}) is void
        assert {t for _, t in heard} == {total}
        assert [d for d, _ in heard] == sorted(d for d, _ in heard)
        assert heard[-1] == (total, total)
        assert len(heard) >= (2 if void else total)


DIVIDING = """product p
type CPU {{ threads: int  price: decimal }}
parts CPU {{ "A": threads=16, price=299  "B": threads=0, price=99  "C": threads=0, price=89 }}
type GPU {{ vram_gb: int }}
parts GPU {{ "G": vram_gb=12 }}
component cpu: CPU
component gpu: GPU optional
component fans: GPU qty 1..3 optional
option render: bool
rule r: {rule}
"""


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ("render -> cpu.price / cpu.threads <= 20", "cpu.threads, which is 0 for parts B, C"),
        ("render -> 24 / gpu.vram_gb <= 2", "gpu.vram_gb, which is 0 when gpu is absent"),
        ("render -> 6 / fans.qty <= 2", "fans.qty, which is 0 when fans is absent"),
        ("render -> cpu.price / 0 <= 2", "0, which is 0 always"),
        ("render -> cpu.threads > 0 -> cpu.price / cpu.threads <= 20", None),
        ("cpu.threads == 0 or cpu.price / cpu.threads <= 20", None),
        ("render and gpu != none and 24 / gpu.vram_gb <= 2", None),
        ("if fans.qty > 0 then 6 / fans.qty <= 2 else true", None),
        ("render -> cpu.price / 2 <= 200", None),
        # a test of the component guards its absence, not a part's zero
        (
            "render and cpu != none -> cpu.price / cpu.threads <= 20",
            "cpu.threads, which is 0 for parts B, C",
        ),
    ],
)
def test_a_division_by_zero_is_said_unless_a_test_before_it_guards_it(
    rule: str, said: str | None
) -> None:
    model = load_model(DIVIDING.format(rule=rule), "divide.ato")
    found = [d for d in lint_model(model) if d.code == "W0312"]
    if said is None:
        assert found == []
    else:
        (d,) = found
        assert d.message.startswith(f"rule 'r' divides by {said}: ")
        # and the oracle agrees: an assembly with such a part breaks the rule
        assert oracle.count(model, {"render": True}) < oracle.count(model, {"render": False})
