"""The built wheel works on its own: installed in a fresh venv, run outside the checkout.

This catches what tests run from the source tree cannot: a grammar file left out
of the wheel, a module that reads from the checkout, a missing console script.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from atoconf import __version__
from tests import conftest
from tests.conftest import CATALOGS, FIXTURES, ROOT

SMOKE = FIXTURES / "wheel_smoke" / "lamp.ato"
EXPECTED_DEPENDENCIES = {
    "lark",
    "pydantic",
    "typer",
    "rich",
    "python-constraint2",
    "sqlalchemy",
    "numpy",
}


def run(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600, code: int = 0
) -> str:
    """Run a command that must exit with `code`; its stdout, or a failure that shows all
    it said."""
    proc = conftest.run(cmd, cwd, env, timeout=timeout)
    assert proc.returncode == code, (
        f"{' '.join(cmd)} exited {proc.returncode}\n"
        f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    return proc.stdout


def clean_env() -> dict[str, str]:
    """This environment without anything that would put the checkout on sys.path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"}
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["NO_COLOR"] = "1"
    return env


def runtime_requirements(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist names without extras, pinned to the versions running here."""
    with zipfile.ZipFile(wheel) as zf:
        (metadata,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        text = zf.read(metadata).decode("utf-8")
    names = []
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        requirement = line.removeprefix("Requires-Dist:").strip()
        if ";" in requirement and "extra" in requirement.split(";", 1)[1]:
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert match, line
        names.append(match.group(0))
    assert {n.lower() for n in names} == EXPECTED_DEPENDENCIES
    pinned = []
    for name in names:
        try:
            pinned.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pinned.append(name)
    return pinned


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    python: Path
    script: Path
    outside: Path  # a folder outside the checkout to run from
    env: dict[str, str]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    build = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist)]
    if importlib.util.find_spec("hatchling") is not None:
        build.append("--no-isolation")  # the backend is here already: no download
    run(build, cwd=ROOT)
    wheels = sorted(dist.glob("atoconf-*.whl"))
    assert len(wheels) == 1, wheels
    wheel = wheels[0]

    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=work)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    script = bin_dir / ("atoconf.exe" if os.name == "nt" else "atoconf")
    env = clean_env()
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    run([*pip, "--no-deps", str(wheel)], cwd=work, env=env)
    run([*pip, *runtime_requirements(wheel)], cwd=work, env=env)
    run([str(python), "-m", "pip", "check"], cwd=work, env=env)

    outside = work / "elsewhere"
    outside.mkdir()
    return Installed(wheel, venv, python, script, outside, env)


def test_installed_wheel_runs_outside_the_checkout(installed: Installed) -> None:
    # (a) the grammar travels inside the wheel, next to the package
    with zipfile.ZipFile(installed.wheel) as zf:
        names = set(zf.namelist())
        assert "atoconf/grammars/atoconf.lark" in names
        packaged_grammar = zf.read("atoconf/grammars/atoconf.lark").decode("utf-8")
    assert packaged_grammar == (ROOT / "grammars" / "atoconf.lark").read_text(encoding="utf-8")
    assert {
        "atoconf/__init__.py",
        "atoconf/__main__.py",
        "atoconf/cli/__init__.py",
        "atoconf/engine/solve.py",
    } <= names
    assert not any(n.startswith(("tests/", "catalogs/", "grammars/")) for n in names)
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    with zipfile.ZipFile(installed.wheel) as zf:
        assert "atoconf = atoconf.cli:main" in zf.read(entry_points).decode("utf-8")

    # (b) the import comes from the venv's site-packages, not from the checkout
    probe = (
        "import atoconf, sysconfig\n"
        "from atoconf.language.parse import grammar_text\n"
        "from importlib import resources\n"
        "print(atoconf.__file__)\n"
        "print(sysconfig.get_paths()['purelib'])\n"
        "print(resources.files('atoconf').joinpath('grammars', 'atoconf.lark').is_file())\n"
        "print(len(grammar_text()))\n"
    )
    out = run([str(installed.python), "-c", probe], cwd=installed.outside, env=installed.env)
    module_file, purelib, grammar_is_file, grammar_len = out.splitlines()
    module_path = Path(module_file).resolve()
    assert module_path.is_relative_to(Path(purelib).resolve()), (module_path, purelib)
    assert module_path.is_relative_to(installed.venv.resolve())
    assert not module_path.is_relative_to(ROOT)
    assert grammar_is_file == "True"
    assert int(grammar_len) == len(packaged_grammar)

    # (c) the console script and `python -m atoconf` work on real rule files
    version = run([str(installed.script), "--version"], cwd=installed.outside, env=installed.env)
    assert version == f"atoconf {__version__}\n"
    assert installed.wheel.name.startswith(f"atoconf-{__version__}-")
    models = [SMOKE, *sorted(CATALOGS.glob("*/*.ato"))]
    dumps: dict[Path, str] = {}
    for model in models:
        check = run(
            [str(installed.script), "check", str(model)], cwd=installed.outside, env=installed.env
        )
        assert check == "", f"{model}: {check}"
        dump = run(
            [str(installed.python), "-m", "atoconf", "dump", str(model)],
            cwd=installed.outside,
            env=installed.env,
        )
        assert dump.startswith("product "), f"{model}: {dump[:200]}"
        assert "\ncomponent " in dump or "\noption " in dump, f"{model}: {dump[:200]}"
        dumps[model] = dump
    assert dumps[SMOKE].startswith('product desk_lamp "Desk lamp"\n')
    assert "parts SH-20-BK, SH-20-WH, SH-30-BR\n" in dumps[SMOKE]  # read from the CSV file

    # an error found by the installed package is reported, with exit 1
    bad = installed.outside / "bad.ato"
    bad.write_text("product p\nrule r: zz == 1\n", encoding="utf-8")
    out = run(
        [str(installed.script), "check", "bad.ato", "--format", "github"],
        cwd=installed.outside,
        env=installed.env,
        timeout=120,
        code=1,
    )
    assert out == (
        "::error file=bad.ato,line=2,col=9,endLine=2,endColumn=11,"
        "title=E0201::unknown component or option 'zz' [E0201]\n"
    )
