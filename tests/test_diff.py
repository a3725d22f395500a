"""`atoconf diff`: the declarations two versions differ in, exactly those, in every
format; a change of layout alone is none; versions with errors report every error."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from atoconf.diff.declarations import declarations
from atoconf.language.build import load_text
from tests.conftest import CATALOGS, cli
from tests.strategies import FAST, random_models


def _edited(tmp_path: Path) -> tuple[Path, Path]:
    """The PC catalog, and a copy with a rule's condition changed, a rule renamed, a
    part repriced, a part added and a rule's layout changed."""
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
    lines[1] = lines[1].replace(",139.00", ",129.00")
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
        "attributes": {"price": {"old": "139.00", "new": "129.00"}},
    }
    assert (rule["kind"], rule["name"]) == ("rule", "socket_match")
    assert rule["old"].endswith("cpu.socket == board.socket")
    assert rule["new"].endswith("cpu.socket == board.socket and cpu.price < 900")


def test_every_format_says_the_same(tmp_path: Path) -> None:
    old, new = _edited(tmp_path)
    text = cli("diff", str(old), str(new)).stdout
    assert text.startswith("declarations: 2 added, 1 removed, 2 changed\n")
    assert "      price: 139.00 -> 129.00" in text
    markdown = cli("diff", str(old), str(new), "-f", "markdown").stdout
    assert "**Declarations:** 2 added, 1 removed, 2 changed." in markdown
    assert markdown.index("**Declarations:**") < markdown.index("<details>")
    assert "| changed | part | `GPU-ARC-A380` | `price 139.00 -> 129.00` |" in markdown
    github = cli("diff", str(old), str(new), "-f", "github").stdout.splitlines()
    assert len(github) == 5 and all(line.startswith("::notice file=") for line in github)
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
    ran = cli("diff", str(CATALOGS / "pc" / "workstation.ato"), str(rules))
    assert (ran.returncode, ran.stdout) == (0, "declarations: none changed\n")


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
