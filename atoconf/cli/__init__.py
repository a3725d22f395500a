"""The command line: one module per command, each registered on the one typer app."""

from __future__ import annotations

import sys

from atoconf.cli import check, diff, fmt, new, plan, serve, solve, test  # noqa: F401  (they register commands)
from atoconf.cli.common import EXIT_INTERNAL, app

__all__ = ["app", "main"]


def main() -> None:
    """Run the command line; never ends in a traceback."""
    try:
        app(prog_name="atoconf")
    except KeyboardInterrupt:
        sys.stderr.write("atoconf: interrupted\n")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # a bug in atoconf, not in the user's input
        sys.stderr.write(
            f"atoconf: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in atoconf; please report it with the command and input.\n"
        )
        sys.exit(EXIT_INTERNAL)
