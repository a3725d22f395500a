"""What many test files share: where things are, running the command line, loading
rule text, the `url` fixture (a stock database on SQLite and on PostgreSQL). Plain
functions and constants: `from tests.conftest import ROOT, cli`."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import pytest

from atoconf.language.build import load_text
from atoconf.language.model import Expr, Model
from atoconf.language.typecheck import typed_expression
from atoconf.planning.stock import StockDatabase

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "catalogs"
FIXTURES = ROOT / "tests" / "fixtures"
PC = CATALOGS / "pc" / "workstation.ato"
BIKE = CATALOGS / "bike" / "bicycle.ato"
SMALL = FIXTURES / "fuzz_base.ato"  # a small PC product, also the fuzzers' seed
SARIF_SCHEMA = FIXTURES / "sarif-schema-2.1.0.json"


class Ran(NamedTuple):
    """What a command did; equal to the tuple (returncode, stdout, stderr)."""

    returncode: int
    stdout: str
    stderr: str


def checkout_env(env: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This environment with the checkout first on PYTHONPATH, and `env` on top of it
    (a None value removes that variable)."""
    merged = dict(os.environ)
    merged["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), merged.get("PYTHONPATH")]))
    for name, value in (env or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def run(
    command: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 300,
) -> Ran:
    """Run any command (in `env`, else in this environment), its output read as UTF-8."""
    done = subprocess.run(
        list(command),
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def git(folder: Path, *args: str) -> Ran:
    """git in `folder`, as a committer with a name and address; fails the test when
    git does."""
    ran = run(["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args], folder)
    assert ran.returncode == 0, (args, ran.stderr)
    return ran


def cli(
    *args: str,
    cwd: Path = ROOT,
    env: Mapping[str, str | None] | None = None,
    stdin: str | None = None,
    in_process: bool = False,
    timeout: float = 300,
) -> Ran:
    """`atoconf ARGS` run in `cwd`, with `env` on top of this environment (a None value
    removes a variable).

    By default `python -m atoconf` in a subprocess with this checkout first on
    PYTHONPATH. `in_process` runs the command in this process through typer's
    CliRunner instead (faster; `timeout` does not apply): the command must end by
    exiting with a code, any other exception is raised here, never a traceback."""
    if not in_process:
        command = [sys.executable, "-m", "atoconf", *args]
        return run(command, cwd, checkout_env(env), stdin, timeout)
    from typer.testing import CliRunner

    from atoconf.cli import app

    with contextlib.chdir(cwd):
        result = CliRunner().invoke(app, list(args), input=stdin, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def load_model(text: str, name: str, strict: bool = False) -> Model:
    """Rule text loaded as file `name`: it must load (with `strict`, without even a
    warning); a failure shows every diagnostic and the text."""
    result = load_text(text, name)
    problems = [f"{d.span}: {d.message}" for d in result.diagnostics if strict or d.is_error]
    assert result.model is not None and problems == [], "\n".join([*problems, text])
    return result.model


def typed(model: Model, text: str) -> Expr:
    """An expression typed against the model: it must check without a diagnostic."""
    typed = typed_expression(model, text, "<request>")
    assert [f"{d.span}: {d.message}" for d in typed.diagnostics] == [], text
    assert typed.value is not None
    return typed.value


def shapes_module() -> ModuleType:
    """benchmarks/shapes.py, the generator of products of every shape (imported once)."""
    if "shapes" in sys.modules:
        return sys.modules["shapes"]
    spec = importlib.util.spec_from_file_location("shapes", ROOT / "benchmarks" / "shapes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["shapes"] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def serving(*args: str) -> Iterator[str]:
    """`atoconf serve ARGS` on a free port of this machine: yields its address once
    its health check answers (within 60 s), and stops it after."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    command = [sys.executable, "-m", "atoconf", "serve", *args, "--port", str(port)]
    server = subprocess.Popen(
        command, env=checkout_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5).close()
                break
            except OSError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "the server did not start in 60 s"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


# ---- a stock database, on SQLite and on PostgreSQL ------------------------------------------

POSTGRES = os.environ.get("ATOCONF_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty stock database: an SQLite file, or the PostgreSQL test database with
    atoconf's tables dropped."""
    if request.param == "sqlite":
        yield str(tmp_path / "stock.db")
        return
    if not POSTGRES:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: ATOCONF_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server: set ATOCONF_TEST_POSTGRES_URL")
    database = StockDatabase(POSTGRES)
    database.metadata.drop_all(database.engine)
    database.engine.dispose()
    yield POSTGRES
