"""Building models: names, imports, types, parts, semantics of SPEC §1."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

import atoconf
from atoconf.language.build import load_file, load_text
from atoconf.language.evaluate import Assembly, evaluate, holds
from atoconf.language.model import Model
from tests.conftest import load_model

BASE = """product demo
enum Socket { AM5, LGA1700 }
enum Iface { NVMe, SATA }
type CPU {
  socket: Socket
  cores: int
  tdp: int default 65
  price: decimal
}
type GPU { vram_gb: int  tdp: int  price: decimal  label: Iface }
type Drive { iface: Iface  price: decimal }
parts CPU {
  "CPU-A": socket=AM5, cores=8, price=0.10
  "CPU-B": socket=LGA1700, cores=20, tdp=125, price=0.20
}
parts GPU { "GPU-1": vram_gb=12, tdp=200, price=599.99, label=NVMe }
parts Drive {
  "SSD": iface=NVMe, price=80
  "HDD": iface=SATA, price=50
}
component cpu: CPU qty 1..2
component gpu: GPU optional
component boot: Drive where iface == NVMe
option usage: enum { office, gaming } default office
"""


def model_of(extra: str = "") -> Model:
    return load_model(BASE + extra, "demo.ato", strict=True)


def errors_of(text: str) -> list[tuple[int, int, str]]:
    result = load_text(text, "demo.ato")
    assert result.model is None
    return [(d.span.line, d.span.col, d.code) for d in result.diagnostics if d.span]


def test_a_load_is_a_checked_model() -> None:
    good = load_text(BASE, "demo.ato")
    assert isinstance(good, atoconf.Checked)
    assert good.ok and good.model is good.value and good.value is not None
    assert list(good.sources) == ["demo.ato"]
    bad = load_text(BASE + "rule r: nothing.at_all > 1\n", "demo.ato")
    assert not bad.ok and bad.model is None and bad.value is None
    assert bad.errors and bad.errors == [d for d in bad.diagnostics if d.is_error]


def test_where_filters_parts_statically() -> None:
    model = model_of()
    assert model.components["boot"].parts == ("SSD",)
    assert model.components["cpu"].parts == ("CPU-A", "CPU-B")
    assert (model.components["cpu"].qty_min, model.components["cpu"].qty_max) == (1, 2)


def test_decimals_are_exact() -> None:
    model = model_of("rule cheap: total(price) <= 1000\n")
    a, b = model.parts["CPU-A"].values["price"], model.parts["CPU-B"].values["price"]
    assert isinstance(a, Decimal) and a + b == Decimal("0.30")
    assembly = Assembly({"cpu": ("CPU-A", 2), "gpu": ("GPU-1", 1), "boot": ("SSD", 1)}, {})
    total = evaluate(model, model.rules["cheap"].expr.left, assembly)  # type: ignore[union-attr]
    assert total == Fraction("0.20") + Fraction("599.99") + 80


def test_absent_components_read_defaults_else_zero() -> None:
    model = model_of(
        "rule r1: gpu.tdp + cpu.tdp <= 300\n"
        "rule r2: gpu.label == none\n"
        "rule r3: gpu.qty == 0 -> gpu == none\n"
    )
    absent = Assembly({"cpu": ("CPU-A", 1), "gpu": (None, 0), "boot": ("SSD", 1)}, {})
    assert evaluate(model, model.rules["r1"].expr.left, absent) == 65  # type: ignore[union-attr]
    assert holds(model, model.rules["r2"].expr, absent)
    assert holds(model, model.rules["r3"].expr, absent)
    present = Assembly({"cpu": ("CPU-A", 1), "gpu": ("GPU-1", 1), "boot": ("SSD", 1)}, {})
    assert not holds(model, model.rules["r2"].expr, present)


def test_bare_members_resolve_against_the_other_side() -> None:
    model = model_of(
        "rule a: cpu.socket == AM5\n"
        "rule b: AM5 == cpu.socket\n"
        "rule c: cpu.socket in {AM5, LGA1700}\n"
        "rule d: usage == gaming -> gpu != none\n"
        "rule e: gpu.label == Iface.NVMe\n"
        'rule f: cpu == "CPU-A" or cpu in {"CPU-B"}\n'
    )
    assembly = Assembly(
        {"cpu": ("CPU-A", 1), "gpu": (None, 0), "boot": ("SSD", 1)}, {"usage": "office"}
    )
    assert [holds(model, r.expr, assembly) for r in model.rules.values()] == [
        True,
        True,
        True,
        True,
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("cpu.socket == 5", "E0301"),
        ("cpu.socket == gpu.label", "E0302"),
        ("cpu.socket == NVMe", "E0207"),
        ("NVMe == NVMe", "E0208"),
        ('cpu == "GPU-1"', "E0205"),
        ('boot == "HDD"', "E0205"),
        ('cpu == "CPU-Z"', "E0205"),
        ("cpu.cores + 1", "E0303"),
        ("cpu.sockets == AM5", "E0204"),
        ("usage.x == 1", "E0203"),
        ("total(socket) > 1", "E0304"),
        ("count(cpu.cores) > 1", "E0304"),
        ("maxx(1, 2) > 1", "E0209"),
        ("cpu.cores < usage", "E0301"),
        ("usage < office", "E0301"),
        ("(if usage == office then 1 else true) == 1", "E0301"),
        ("cpu.cores and true", "E0301"),
        ("cpuu.cores > 1", "E0201"),
    ],
)
def test_type_errors(rule: str, code: str) -> None:
    line = BASE.count("\n") + 1
    assert [(ln, c) for ln, _, c in errors_of(BASE + f"rule r: {rule}\n")] == [(line, code)]


def test_three_independent_errors_in_one_run() -> None:
    text = BASE + "rule a: cpu.socket == 5\nrule b: gpu.vrm > 1\nrule c: a = b\n"
    line = BASE.count("\n") + 1
    assert errors_of(text) == [
        (line, 9, "E0301"),
        (line + 1, 13, "E0204"),
        (line + 2, 11, "E0101"),
    ]


def test_did_you_mean_for_unknown_names() -> None:
    result = load_text(BASE + "rule r: cpu.cores >= 2 and usge == office\n", "demo.ato")
    [d] = result.diagnostics
    assert d.hint == "did you mean 'usage'?"


def test_duplicates_and_quantities() -> None:
    text = BASE + (
        'parts CPU { "CPU-A": socket=AM5, cores=1, price=1 }\n'
        "component cpu: CPU\n"
        "component spare: CPU qty 3..2\n"
        "option usage: bool\n"
    )
    codes = [c for _, _, c in errors_of(text)]
    assert codes == ["E0206", "E0202", "E0505", "E0202"]


def test_imports_are_relative_and_checked(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "common.ato").write_text(
        'import "more.ato"\ntype T { n: int }\nparts T from "../parts/t.csv"\n'
    )
    (tmp_path / "lib" / "more.ato").write_text("enum E { A, B }\n")
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "t.csv").write_text("sku,name,n\nT-1,One,1\n")
    (tmp_path / "main.ato").write_text(
        'product p\nimport "lib/common.ato"\ncomponent t: T\noption e: E\nrule r: t.n == 1\n'
    )
    model = atoconf.load(tmp_path / "main.ato")
    assert list(model.parts) == ["T-1"]
    assert model.files[-1].endswith("main.ato") and len(model.files) == 3


def test_sku_unique_across_imports(tmp_path: Path) -> None:
    (tmp_path / "lib.ato").write_text('type T { n: int }\nparts T { "X": n=1 }\n')
    (tmp_path / "main.ato").write_text('product p\nimport "lib.ato"\nparts T { "X": n=2 }\n')
    result = load_file(tmp_path / "main.ato")
    [d] = result.diagnostics
    assert d.code == "E0206" and d.span is not None and d.span.file.endswith("main.ato")
    assert d.related[0].span.file.endswith("lib.ato")


def test_rule_error_holds_every_diagnostic() -> None:
    with pytest.raises(atoconf.RuleError) as caught:
        atoconf.loads(BASE + "rule a: x\nrule b: y\n", "demo.ato")
    assert [d.code for d in caught.value.diagnostics] == ["E0201", "E0201"]
    assert "demo.ato:" in str(caught.value) and "(and 1 more)" in str(caught.value)


def test_given_is_checked_like_a_request() -> None:
    text = BASE + (
        'test "t" {\n'
        '  given { cpu = "GPU-1", gpu = none, usage = gamer, cpu.qty = 3, boot = none }\n'
        "  expect valid\n"
        "}\n"
    )
    codes = [c for _, _, c in errors_of(text)]
    assert codes == ["E0205", "E0207", "E0601", "E0601"]


def test_models_are_frozen() -> None:
    model = model_of()
    with pytest.raises(Exception, match="frozen"):
        model.product = "other"  # type: ignore[misc]
