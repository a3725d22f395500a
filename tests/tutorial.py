"""docs/tutorial.md as a script: each ```console block's `$ ` lines are run in order, in one
temporary folder (`cd` moves within it), and what each prints is the text below it.

    python -m tests.tutorial --update     # write the real outputs into the page
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT, checkout_env

TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
TIMING = re.compile(r"\(\d+\.\d\d s\)")  # a test's seconds: the one thing that varies


@dataclass
class Step:
    command: str  # as the page shows it (a heredoc's lines included)
    shown: str  # the output the page shows


def steps(text: str) -> list[list[Step]]:
    """Per console block, its commands and the outputs shown for them."""
    blocks = []
    for body in BLOCK.findall(text):
        found: list[Step] = []
        lines = body.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            assert line.startswith("$ "), f"a console block line outside a command: {line!r}"
            command = [line[2:]]
            heredoc = re.search(r"<<\s*'(\w+)'", line)
            i += 1
            if heredoc:
                while lines[i] != heredoc.group(1):
                    command.append(lines[i])
                    i += 1
                command.append(lines[i])
                i += 1
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            found.append(Step("\n".join(command), "\n".join(output)))
        blocks.append(found)
    return blocks


def run(command: str, cwd: Path) -> str:
    """A command as a shell runs it in `cwd`, `atoconf` being this checkout's."""
    shell = re.sub(r"(^|\s)atoconf ", rf"\1{sys.executable} -m atoconf ", command)
    env = {**checkout_env(), "COLUMNS": "100", "TERM": "dumb"}
    done = subprocess.run(
        ["bash", "-c", shell],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    return done.stdout.rstrip("\n")


def same(shown: str, printed: str) -> bool:
    return TIMING.sub("(0.00 s)", shown) == TIMING.sub("(0.00 s)", printed)


def walk(text: str) -> list[tuple[Step, str]]:
    """Every step with what it printed, run in order in a fresh folder."""
    out = []
    with tempfile.TemporaryDirectory(prefix="atoconf-tutorial-") as folder:
        cwd = Path(folder)
        for block in steps(text):
            for step in block:
                if step.command.startswith("cd "):
                    cwd = (cwd / step.command[3:].strip()).resolve()
                    out.append((step, ""))
                    continue
                out.append((step, run(step.command, cwd)))
    return out


def update() -> None:
    text = TUTORIAL.read_text(encoding="utf-8")
    printed = iter(walk(text))

    def fill(match: re.Match[str]) -> str:
        lines = []
        for step in steps(f"```console\n{match.group(1)}```")[0]:
            _, output = next(printed)
            lines.append(
                "\n".join(f"$ {c}" if n == 0 else c for n, c in enumerate(step.command.split("\n")))
            )
            if output:
                lines.append(output)
        return "```console\n" + "\n".join(lines) + "\n```"

    TUTORIAL.write_text(BLOCK.sub(fill, text), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python -m tests.tutorial --update")
    update()
