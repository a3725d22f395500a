"""`atoconf serve`: the products over HTTP (needs the `serve` extra)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from atoconf.cli.common import Command, app, fail_usage, load_or_exit, stock_or_exit
from atoconf.planning.stock import is_database


@app.command(cls=Command)
def serve(
    files: Annotated[list[Path], typer.Argument(help="Rule files: one product each.")],
    stock: Annotated[
        str | None,
        typer.Option(help="stock.csv (supply.csv beside it), an SQLite file or a database URL."),
    ] = None,
    supply: Annotated[
        Path | None, typer.Option(help="supply.csv, when not beside stock.csv.")
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    token_file: Annotated[
        Path | None,
        typer.Option(help="A file holding the token that writes (reserve, release) need."),
    ] = None,
    deadline: Annotated[float, typer.Option(help="Seconds any one operation may take.")] = 10.0,
) -> None:
    """Serve products as a JSON API (and the page to click through them).

    Each product is named by its file's stem: `workstation.ato` is
    /api/v1/products/workstation. Reads need no token; writes (reserve, release)
    need --stock a database and --token-file, and the token as
    `Authorization: Bearer TOKEN`. The schema is at /openapi.json.
    """
    try:
        import uvicorn

        from atoconf.serve.worker import SETTINGS, settings_json
    except ImportError:
        fail_usage("atoconf serve needs its extra: pip install 'atoconf[serve]'")
    if deadline <= 0:
        fail_usage("--deadline must be a number of seconds > 0")
    names = [f.stem for f in files]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        fail_usage(f"two products would be named '{twice[0]}': serve files with distinct names")
    for path in files:
        load_or_exit(path)  # every error of every file before anything listens
    if supply and not stock:
        fail_usage("--supply goes with --stock")
    if stock:
        stock_or_exit(stock, supply)
    token = None
    if token_file is not None:
        if not stock or not is_database(stock):
            fail_usage("--token-file enables writes, which need --stock a database")
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail_usage(f"{token_file}: cannot read the token ({exc.strerror})")
        if len(token) < 16:
            fail_usage(f"{token_file}: the token must be at least 16 characters")
    os.environ[SETTINGS] = settings_json(
        [f.resolve() for f in files], stock, str(supply) if supply else None, token, deadline
    )
    typer.echo(f"atoconf serving {', '.join(names)} on http://{host}:{port}/", err=True)
    uvicorn.run(
        "atoconf.serve.worker:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
