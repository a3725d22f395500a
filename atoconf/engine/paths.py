"""Which path answered an operation: the compiled decision graphs, or a named fallback.

Reported on the logger `atoconf.engine` at DEBUG level, each record carrying
`operation`, `path` and `reason` attributes, so a benchmark can show which path
answered and a test can assert, without any timing, that a model is answered
on the compiled path. Nothing is formatted unless that logger wants DEBUG."""

from __future__ import annotations

import logging

log = logging.getLogger("atoconf.engine")

GRAPH = "graph"  # the decision graphs compiled for the model or the request
CLAUSES = "clauses"  # the SAT solver, on a group of two-valued choices (clauses.py)


def answered(operation: str, path: str, reason: str = "") -> None:
    """Say that `path` answered (a part of) `operation`; `reason`: why not the graphs."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "%s answered by %s%s",
            operation,
            path,
            f" ({reason})" if reason else "",
            extra={"operation": operation, "path": path, "reason": reason},
        )
