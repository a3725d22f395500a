"""What each server process runs: the app made from the settings `atoconf serve` put
in the environment (uvicorn starts every worker from an import string, so the
settings cannot be passed as objects)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import FastAPI

from atoconf.engine.clock import Clock
from atoconf.engine.solve import domains
from atoconf.language.build import load_file
from atoconf.serve.app import ServeConfig, create_app, products_of

SETTINGS = "ATOCONF_SERVE_SETTINGS"


def settings_json(
    files: list[Path], stock: str | None, supply: str | None, token: str | None, deadline: float
) -> str:
    """The settings a worker reads (see `app`)."""
    return json.dumps(
        {
            "files": [str(f) for f in files],
            "stock": stock,
            "supply": supply,
            "token": token,
            "deadline": deadline,
        }
    )


def app() -> FastAPI:
    """The app factory uvicorn calls in each worker: the products loaded (and checked
    by `atoconf serve` before any worker starts) from the settings in the environment."""
    settings = json.loads(os.environ[SETTINGS])
    files = [Path(f) for f in settings["files"]]
    models = []
    for path in files:
        model = load_file(path).model
        if model is None:  # changed on disk since `atoconf serve` checked it
            raise SystemExit(f"atoconf serve: {path} has errors; run `atoconf check {path}`")
        models.append(model)
    for model in models:  # compiled now, so that no person waits for it
        domains(model, clock=Clock(settings["deadline"]))
    config = ServeConfig(
        products_of(files, models),
        stock=settings["stock"],
        supply=settings["supply"],
        token=settings["token"],
        deadline=settings["deadline"],
    )
    return create_app(config)
