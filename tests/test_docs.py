"""The docs cannot rot: every rule-language example in them parses, and the CI recipes
run as written."""

from __future__ import annotations

import inspect
import json
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import atoconf
from atoconf.language.fmt import format_text
from atoconf.language.parse import parse
from atoconf.language.source import SourceFile
from tests.conftest import CATALOGS, ROOT, checkout_env, git
from tests.tutorial import TUTORIAL, same, walk

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


def test_the_readme_sample_is_in_the_layout_fmt_writes() -> None:
    """A newcomer copies it first: it must be what `atoconf fmt` would leave."""
    (sample, *_) = [block for name, block in BLOCKS if name.startswith("README.md")]
    assert format_text(sample, "README.md").text == sample


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


def _run_scripts(workflow: str) -> list[str]:
    """The shell scripts of a workflow's steps (`run: ...` or `run: |` blocks)."""
    lines = workflow.splitlines()
    scripts = []
    for n, line in enumerate(lines):
        body = line.strip().removeprefix("- ")
        if not body.startswith("run: "):
            continue
        body = body.removeprefix("run: ")
        if body != "|":
            scripts.append(body)
            continue
        indent = len(line) - len(line.lstrip())
        block = []
        for following in lines[n + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            block.append(following)
        scripts.append(textwrap.dedent("\n".join(block)))
    return scripts


def test_the_impact_workflow_comments_and_gates_a_pull_request(tmp_path: Path) -> None:
    """The pull-request workflow of docs/ci.md, run as written (but for installing
    atoconf and posting the comment) on a repository whose branch tightens a rule."""
    text = (DOCS / "ci.md").read_text(encoding="utf-8")
    workflow = re.search(r"```yaml\nname: rule impact\n(.*?)```", text, re.S)
    assert workflow is not None and "fetch-depth: 0" in workflow.group(1)
    scripts = [
        s for s in _run_scripts(workflow.group(1)) if "pip install" not in s and "gh pr" not in s
    ]
    assert len(scripts) == 2
    shutil.copytree(CATALOGS, tmp_path / "catalogs")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "the catalogs")
    git(tmp_path, "update-ref", "refs/remotes/origin/main", "HEAD")  # as actions/checkout has it
    git(tmp_path, "checkout", "-qb", "tighter")
    rules = tmp_path / "catalogs" / "pc" / "workstation.ato"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace(
            "  cpu.socket == board.socket\n", "  cpu.socket == board.socket and cpu.cores < 24\n"
        ),
        encoding="utf-8",
    )
    # the pre-commit hook, before the commit: the staged change loses assemblies
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    entry = dict(re.findall(r"- id: (\S+).*?entry: ([^\n]+)", hooks, re.S))["atoconf-diff"]
    env = checkout_env()
    hook = f"{_atoconf(entry)} catalogs/pc/workstation.ato"
    ran = subprocess.run(hook, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    git(tmp_path, "commit", "-qam", "big CPUs no longer fit")
    env["GITHUB_BASE_REF"] = "main"
    comment, gate = (
        subprocess.run(
            ["bash", "-c", _atoconf(script)], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        for script in scripts
    )
    assert comment.returncode == 0, comment.stderr
    impact = (tmp_path / "impact.md").read_text(encoding="utf-8")
    assert impact.count("### atoconf diff: ") == len(list(CATALOGS.glob("*/*.ato")))
    lost = re.findall(r"\*\*Valid assemblies: [\d,]+ -> [\d,]+: ([\d,]+) lost", impact)
    assert sorted(int(n.replace(",", "")) > 0 for n in lost) == [False, True]  # the PC loses
    assert "Cheapest lost: `price " in impact and "(rule socket_match)" in impact
    assert gate.returncode == 1, gate.stderr  # assemblies were lost: the gate fails
    assert "::notice file=catalogs/pc/workstation.ato,line=" in gate.stdout
    # the hook passes once the working tree is the committed version
    ran = subprocess.run(hook, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, (ran.stdout, ran.stderr)


def test_the_pre_commit_hooks_pass_on_the_catalogs(tmp_path: Path) -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    entries = dict(re.findall(r"- id: (\S+).*?entry: ([^\n]+)", text, re.S))
    # the diff hook compares with HEAD: the impact workflow's test runs it in a repository
    assert entries.pop("atoconf-diff").startswith("atoconf diff --git HEAD ")
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


# ---- docs/json.md: every example is the shape of its command's real output ---------------------

JSON_DOC = ROOT / "docs" / "json.md"
# maps keyed by the product's names (variables, components, options), not by the shape
DATA_KEYED = {"domains", "instead", "components", "options", "parts"}


def _json_examples() -> list[tuple[str, str]]:
    text = JSON_DOC.read_text(encoding="utf-8")
    return re.findall(r"```sh\n(atoconf [^\n]+)\n```\n```json\n(.*?)\n```", text, re.S)


def _key_paths(value: object, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every key path of a JSON value: list items as `[]`, the keys of a map keyed by
    the product's names as `*`."""
    found = {path}
    if isinstance(value, dict):
        for key, item in value.items():
            name = "*" if path and path[-1] in DATA_KEYED else key
            found |= _key_paths(item, (*path, name))
    elif isinstance(value, list):
        for item in value:
            found |= _key_paths(item, (*path, "[]"))
    return found


def test_the_json_doc_shows_every_command() -> None:
    commands = {command.split()[1] for command, _ in _json_examples()}
    assert commands == {"check", "test", "count", "domains", "solve", "explain", "plan", "diff"}


@pytest.mark.parametrize(
    ("command", "example"),
    _json_examples(),
    ids=[f"{n}-{c.split()[1]}" for n, (c, _) in enumerate(_json_examples())],
)
def test_a_json_example_has_exactly_the_keys_of_the_real_output(command: str, example: str) -> None:
    args = shlex.split(command)[1:]
    done = subprocess.run(
        [sys.executable, "-m", "atoconf", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=checkout_env(),
        timeout=300,
    )
    real = json.loads(done.stdout)
    shown = json.loads(example)
    assert shown["version"] == real["version"] == 1
    assert _key_paths(shown) == _key_paths(real), command


def test_every_public_name_has_a_docstring() -> None:
    """The API reference of the docs site is made from these: none may be blank."""
    missing = []
    for name in atoconf.__all__:
        obj = getattr(atoconf, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if not inspect.isclass(obj):
            continue
        for member_name, member in vars(obj).items():
            function = member.fget if isinstance(member, property) else member
            if isinstance(function, staticmethod | classmethod):
                function = function.__func__
            if (
                not member_name.startswith("_")
                and inspect.isfunction(function)
                and not (function.__doc__ or "").strip()
            ):
                missing.append(f"{name}.{member_name}")
    assert missing == []


def test_the_docs_site_lists_every_page() -> None:
    """Each page of docs/ is in the site's navigation (.ci/mkdocs.yml)."""
    config = (ROOT / ".ci" / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s*([\w-]+\.md)\s*$", config, re.M))
    assert listed == {p.name for p in (ROOT / "docs").glob("*.md")}


def test_the_tutorial_runs_as_written() -> None:
    """docs/tutorial.md: every command, run in order in a fresh folder, prints what the
    page shows below it (a test's seconds aside)."""
    text = TUTORIAL.read_text(encoding="utf-8")
    ran = walk(text)
    commands = " ".join(step.command for step, _ in ran)
    for word in ("atoconf new", "check --strict", "test --coverage-min 100", "fmt --check", "plan"):
        assert word in commands
    for step, printed in ran:
        assert same(step.shown, printed), (
            f"$ {step.command}\n--- shown\n{step.shown}\n--- printed\n{printed}"
        )


def test_no_user_facing_text_mentions_the_internal_contract() -> None:
    """The README, the docs and everything the program prints (its sources) stand
    alone: none points to a document users do not have."""
    paths = [README, *DOCS.glob("*.md"), *(ROOT / "atoconf").rglob("*.py")]
    mentions = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in paths
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\bSPEC\b|§", line)
    ]
    assert mentions == []
