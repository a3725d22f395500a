"""The docs cannot rot: every rule-language example in them parses, and the CI recipes
run as written."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from atoconf.language.parse import parse
from atoconf.language.source import SourceFile
from tests.conftest import CATALOGS, ROOT, checkout_env

DOCS = ROOT / "docs"
README = ROOT / "README.md"


def _blocks() -> list[tuple[str, str]]:
    found = []
    for path in [README, *sorted(DOCS.glob("*.md"))]:
        if path.name == "errors.md":  # its examples are wrong on purpose
            continue
        text = path.read_text(encoding="utf-8")
        for i, block in enumerate(re.findall(r"```ato\n(.*?)```", text, re.S)):
            found.append((f"{path.name}#{i}", block))
    return found


BLOCKS = _blocks()


def test_the_language_reference_has_examples() -> None:
    assert sum(1 for name, _ in BLOCKS if name.startswith("language.md")) >= 20


@pytest.mark.parametrize(("name", "block"), BLOCKS, ids=[n for n, _ in BLOCKS])
def test_example_parses(name: str, block: str) -> None:
    diagnostics = parse(SourceFile(name, block)).diagnostics
    assert [f"{d.span}: {d.message}" for d in diagnostics] == []


# ---- docs/ci.md and .pre-commit-hooks.yaml: the CI recipes work as written ---------------


def _atoconf(command: str) -> str:
    """A documented shell command with `atoconf` run from this checkout."""
    return re.sub(r"(^|\s)atoconf ", rf"\1{sys.executable} -m atoconf ", command)


def _workflow_commands() -> list[str]:
    text = (DOCS / "ci.md").read_text(encoding="utf-8")
    workflow = re.search(r"```yaml\nname: rules\n(.*?)```", text, re.S)
    assert workflow is not None
    lines = [line.strip() for line in workflow.group(1).splitlines()]
    commands = [line.removeprefix("run: ") for line in lines if line.startswith("run: atoconf")]
    commands += [line for line in lines if line.startswith("atoconf ")]
    return commands


def test_the_github_workflow_runs_on_the_catalogs(tmp_path: Path) -> None:
    shutil.copytree(CATALOGS, tmp_path / "catalogs")
    commands = _workflow_commands()
    assert len(commands) == 5
    env = checkout_env()
    for command in commands:
        proc = subprocess.run(
            _atoconf(command), shell=True, cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
    assert ET.parse(tmp_path / "atoconf-tests.xml").getroot().get("failures") == "0"
    sarif = json.loads((tmp_path / "atoconf.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []


def test_the_pre_commit_hooks_pass_on_the_catalogs(tmp_path: Path) -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    entries = dict(re.findall(r"- id: (\S+).*?entry: ([^\n]+)", text, re.S))
    assert sorted(entries) == ["atoconf-check", "atoconf-fmt", "atoconf-fmt-check", "atoconf-test"]
    shutil.copytree(CATALOGS, tmp_path / "catalogs")
    files = " ".join(
        str(p.relative_to(tmp_path)) for p in sorted(tmp_path.glob("catalogs/*/*.ato"))
    )
    for hook, entry in entries.items():
        proc = subprocess.run(
            f"{_atoconf(entry)} {files}",
            shell=True,
            cwd=tmp_path,
            env=checkout_env(),
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, (hook, proc.stdout, proc.stderr)
    # the formatter hook left the (already formatted) catalogs as they were
    for path in sorted(tmp_path.glob("catalogs/**/*.ato")):
        original = ROOT / path.relative_to(tmp_path)
        assert path.read_text(encoding="utf-8") == original.read_text(encoding="utf-8")
