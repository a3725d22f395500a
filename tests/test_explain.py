"""Explanations (atoconf.engine.explain) against the brute-force oracle, and on the catalogs.

For random small products and random requests with no valid assembly, every
conflict must be unsatisfiable and minimal (dropping any one member leaves a
satisfiable rest), every repair must make the request satisfiable with a valid
assembly and be minimal, and `why` must agree with `domains`.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import atoconf
from atoconf.engine.explain import (
    Candidate,
    Explanation,
    Member,
    explain,
    fastdiag,
    item_text,
    quickxplain,
)
from atoconf.engine.request import Request, ResolvedRequest
from atoconf.language.model import Value
from tests import oracle
from tests.conftest import PC, cli
from tests.test_solver_oracle import Case, cases

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def resolved(case: Case) -> ResolvedRequest:
    return ResolvedRequest(
        dict(case.select),
        tuple(zip(case.require_text, case.require, strict=True)),
        None,
        None,
        None,
        Request(),
    )


def satisfiable(
    case: Case, members: list[Member] | None, drop: frozenset[str] = frozenset()
) -> bool:
    """Whether the request's items and the rules among `members` (None: every item
    and rule), less the items in `drop`, have a valid assembly, by brute force."""
    items = {item_text(k, v): (k, v) for k, v in case.select.items()}
    requires = dict(zip(case.require_text, case.require, strict=True))
    if members is None:
        chosen_items = set(items) | set(requires)
        rules = None
    else:
        chosen_items = {m.item for m in members if m.kind == "request" and m.item}
        rules = {m.name for m in members if m.kind == "rule" and m.name}
    chosen_items -= drop
    select = {items[i][0]: items[i][1] for i in chosen_items if i in items}
    require = [requires[i] for i in chosen_items if i in requires]
    return bool(oracle.valid_assemblies(case.model, select, require, rules))


@SETTINGS
@given(cases())
def test_conflicts_are_unsatisfiable_and_minimal_and_repairs_work(case: Case) -> None:
    assume(oracle.count(case.model, case.select, case.require) == 0)
    result = explain(case.model, resolved(case), max_conflicts=3)
    assert not result.satisfiable and result.stopped is None
    for conflict in result.conflicts or [result.conflict]:
        assert not satisfiable(case, conflict)
        for i in range(len(conflict)):
            assert satisfiable(case, conflict[:i] + conflict[i + 1 :]), "not minimal"
    assert len({json.dumps([m.to_json() for m in c]) for c in result.conflicts}) == len(
        result.conflicts
    )
    for repair in result.repairs:
        dropped = frozenset(repair.remove)
        assert satisfiable(case, None, dropped), "a repair that does not repair"
        for item in dropped:
            assert not satisfiable(case, None, dropped - {item}), "a repair that is not minimal"
        valid = set(oracle.valid_assemblies(case.model))
        assert oracle.key_from_json(case.model, repair.assembly.to_json()) in valid
    sizes = [len(r.remove) for r in result.repairs]
    assert sizes == sorted(sizes)


@SETTINGS
@given(cases(), st.data())
def test_why_agrees_with_domains(case: Case, data: st.DataObject) -> None:
    allowed = oracle.domains(case.model, case.select, case.require)
    assume(any(allowed.values()))
    variables = oracle.variables(case.model)
    open_ = [v for v in variables if v not in case.select and variables[v]]
    assume(open_)
    name = data.draw(st.sampled_from(open_))
    value: Value = data.draw(st.sampled_from(list(variables[name])))
    result = explain(case.model, resolved(case), why=(name, value))
    available = any(oracle.same_value(value, v) for v in allowed[name])
    assert result.satisfiable == available
    if not available:
        # the reason: a conflict of rules and request items, or none when the value is
        # impossible in itself (a quantity of a component whose `where` leaves no part):
        # either way, with the value, no valid assembly
        case_with = Case(
            case.text,
            case.model,
            {**case.select, name: value},
            case.require_text,
            case.require,
        )
        members = [*result.conflict, Member(kind="request", item=item_text(name, value))]
        assert not satisfiable(case_with, members), "an unavailable value needs a reason"


def test_a_satisfiable_request_is_said_to_be_so() -> None:
    model = atoconf.load(PC)
    result = model.configure({"usage": "gaming"}).explain()
    assert result.satisfiable and result.conflict == [] and result.repairs == []


def test_budget_tier_with_a_flagship_card_names_the_price_rule_at_its_line() -> None:
    model = atoconf.load(PC)
    cfg = model.configure({"tier": "budget", "gpu": "GPU-4090"})
    result: Explanation = cfg.explain()
    rules = [m for m in result.conflict if m.kind == "rule"]
    assert [m.name for m in rules] == ["price_tier"]
    line = next(
        n
        for n, text in enumerate(PC.read_text(encoding="utf-8").splitlines(), start=1)
        if text.startswith("rule price_tier ")
    )
    assert (rules[0].line, rules[0].col) == (line, 1)
    items = sorted(m.item or "" for m in result.conflict if m.kind == "request")
    assert items == ["gpu=GPU-4090", "tier=budget"]
    # each repair drops one of the two, and comes with a valid assembly
    assert sorted(r.remove[0] for r in result.repairs) == items
    for repair in result.repairs:
        if repair.remove == ["gpu=GPU-4090"]:
            assert "GPU-4060" in (repair.instead.get("gpu") or [])
            assert "GPU-4090" not in (repair.instead.get("gpu") or [])
        chosen = repair.assembly.components["gpu"]
        assert chosen is not None


def test_why_on_the_api_names_the_rule_that_greys_a_value_out() -> None:
    model = atoconf.load(PC)
    cfg = model.configure({"usage": "gaming"})
    assert None not in cfg.domains().domains["gpu"]
    result = cfg.why("gpu", None)
    assert not result.satisfiable
    assert [m.name for m in result.conflict if m.kind == "rule"] == ["gaming_gpu"]
    assert [m.item for m in result.conflict if m.kind == "request"] == ["usage=gaming"]
    assert cfg.why("gpu", "GPU-4070").satisfiable


def test_cli_explains_in_text_and_json_and_exits_by_the_contract() -> None:
    pc = "catalogs/pc/workstation.ato"
    text = cli("explain", pc, "--set", "usage=gaming", "--why", "gpu=none")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert (
        lines[0] == "gpu=none is unavailable. These conflict; removing any one of them resolves it:"
    )
    assert lines[1].startswith("  rule     gaming_gpu (Gaming builds get a graphics card")
    assert lines[1].endswith(f"{pc}:114:1")
    # the whole rule, not only its first line
    assert lines[2:4] == [
        '           114 | rule gaming_gpu "Gaming builds get a graphics card with at least 8 GB":',
        "           115 |   usage == gaming -> gpu != none and gpu.vram_gb >= 8",
    ]
    assert lines[4] == "  request  usage=gaming"
    out = cli("explain", pc, "--set", "tier=budget", "--set", "gpu=GPU-4090", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert list(data) == ["version", "satisfiable", "conflict", "repairs"]
    assert data["version"] == 1 and data["satisfiable"] is False
    assert {"kind": "request", "item": "tier=budget"} in data["conflict"]
    rule = next(m for m in data["conflict"] if m["kind"] == "rule")
    assert list(rule) == ["kind", "name", "description", "file", "line", "col"]
    assert all(set(r) >= {"remove", "assembly"} for r in data["repairs"])
    fine = cli("explain", pc, "--set", "usage=gaming")
    assert fine.returncode == 1 and "satisfiable" in fine.stderr
    bad = cli("explain", pc, "--set", "cpu=CPU-NOPE")
    assert bad.returncode == 2 and "CPU-NOPE" in bad.stderr


TWO_CONFLICTS = """product p
type CPU { cores: int  tdp: int }
parts CPU { "C4": cores=4, tdp=65  "C16": cores=16, tdp=170 }
type Cooler { max_tdp: int }
parts Cooler { "SMALL": max_tdp=95  "BIG": max_tdp=250 }
component cpu: CPU
component cooler: Cooler qty 1..2
option quiet: bool
option render: bool
rule cooling: cpu.tdp <= cooler.max_tdp
rule quiet_cooler: quiet -> cooler == "SMALL"
rule quiet_no_render: quiet -> not render
"""


def test_several_conflicts_are_all_shown_and_each_must_be_resolved(tmp_path: Path) -> None:
    """quiet=true and render=true conflict through one rule; quiet=true and cpu=C16
    through two others: dropping render=true alone leaves the request impossible,
    and the text must not say otherwise."""
    rules = tmp_path / "two.ato"
    rules.write_text(TWO_CONFLICTS)
    args = ("explain", str(rules), "--set", "quiet=true", "--set", "render=true")
    ran = cli(*args, "--set", "cpu=C16", in_process=True)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == (
        "No valid assembly for this request: 2 conflicts, and each must be resolved;"
        " removing any one member of a conflict resolves that conflict:"
    )
    assert lines.count("conflict 1:") == lines.count("conflict 2:") == 1
    model = atoconf.load(rules)
    for remove in ("render", "cpu"):  # one member of one conflict: still impossible
        select = {"quiet": True, "render": True, "cpu": "C16"}
        del select[remove]
        assert model.configure(select).count().count == 0
    # a repair's example names each component, with its quantity when not one
    example = next(line for line in lines if line.strip().startswith("e.g. "))
    assert example.strip() in ("e.g. cpu C16, cooler BIG", "e.g. cpu C16, cooler BIG x2")
    single = cli(*args, in_process=True)
    assert single.stdout.splitlines()[0] == (
        "No valid assembly for this request. These conflict; removing any one of them resolves it:"
    )


def test_repairs_of_one_size_come_best_first_by_the_request_objective() -> None:
    model = atoconf.load(PC)
    request = {"select": {"tier": "budget", "gpu": "GPU-4090"}, "minimize": "total(price)"}
    result = model.configure(request).explain()
    assert [len(r.remove) for r in result.repairs] == [1, 1]
    values = []
    for repair in result.repairs:
        assert repair.assembly.objective is not None
        kept = {k: v for k, v in request["select"].items() if item_text(k, v) not in repair.remove}
        best = next(iter(model.configure({**request, "select": kept}).solve(defaults=False)))
        # each repair shows the best assembly the kept items allow
        assert best.objective == repair.assembly.objective
        values.append(float(repair.assembly.objective))
    assert values == sorted(values)
    assert result.repairs[0].remove == ["gpu=GPU-4090"]


# ---- the algorithms alone, on synthetic problems --------------------------------------------
# A problem here is a family of "bad" subsets of candidates: a set is satisfiable
# when it contains none of them. Cheap to check, so requests far longer than the
# random products' (FastDiag takes over past EXHAUSTIVE_ITEMS) are covered.


@st.composite
def synthetic(draw: st.DrawFn) -> tuple[list[Candidate], list[frozenset[Candidate]]]:
    n = draw(st.integers(1, 16))
    items = [Candidate("select", f"v{i}", f"v{i}=x") for i in range(n)]
    bad = draw(
        st.lists(
            st.lists(st.sampled_from(items), min_size=1, max_size=4, unique=True).map(frozenset),
            min_size=1,
            max_size=5,
        )
    )
    return items, bad


@settings(max_examples=300, deadline=None)
@given(synthetic())
def test_quickxplain_and_fastdiag_are_minimal_on_synthetic_problems(
    problem: tuple[list[Candidate], list[frozenset[Candidate]]],
) -> None:
    items, bad = problem

    def consistent(members: frozenset[Candidate]) -> bool:
        return not any(b <= members for b in bad)

    conflict = quickxplain(consistent, frozenset(), items)
    assert conflict is not None  # every bad set is drawn from the items
    assert not consistent(frozenset(conflict))
    for member in conflict:
        assert consistent(frozenset(conflict) - {member}), "conflict not minimal"
    diagnosis = fastdiag(consistent, items, frozenset())
    assert diagnosis is not None and diagnosis
    rest = frozenset(items) - frozenset(diagnosis)
    assert consistent(rest)
    for member in diagnosis:
        assert not consistent(rest | {member}), "diagnosis not minimal"


def test_a_value_impossible_in_itself_is_said_to_be(tmp_path: Path) -> None:
    """No rule or request item is to blame when the structure rules a value out: the
    only part of an optional component fails its `where`, so a quantity of it is
    unavailable whatever is asked."""
    rules = tmp_path / "w.ato"
    rules.write_text(
        "product w\nenum Color { red, blue }\ntype T { color: Color default red }\n"
        'parts T { "T-1": color=red }\n'
        "component a: T qty 1..2 optional where color != red\noption o: bool\n"
        "rule r: o -> a == none\n"
    )
    model = atoconf.load(rules)
    result = model.configure({}).why("a.qty", 1)
    assert not result.satisfiable and result.conflict == []
    ran = cli("explain", str(rules), "--why", "a.qty=1", in_process=True)
    assert ran.returncode == 0
    assert ran.stdout.startswith("a.qty=1 is unavailable in itself, whatever the request")
    assert "the model itself has no valid assembly" not in ran.stdout
