"""`atoconf serve`: the products as a versioned JSON API over HTTP (FastAPI on uvicorn).

The last layer, beside the command line: it reads requests, asks the engine and the
planner, and answers with the same JSON shapes as the commands' `--format json`.
Its dependencies are the `serve` extra (`pip install atoconf[serve]`).
"""
