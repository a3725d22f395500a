"""Reading rule files: a file and the files it imports become units (source and parse
tree, dependencies first), with import cycles, unreadable imports and imported products
reported; and the units' top-level declarations, gathered by kind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lark import Token

from atoconf.language.context import Context
from atoconf.language.diagnostics import Related, error
from atoconf.language.nodes import Node, leaves, span_of, tokens, trees, unquote
from atoconf.language.parse import ParseResult, parse
from atoconf.language.source import SourceFile, Span, decode, read_source


@dataclass
class Unit:
    """One rule file read: its source, its parse tree and its product line, if any."""

    path: Path | None
    source: SourceFile
    parsed: ParseResult
    product: Node | None = None


def read_units(root: Path, ctx: Context) -> list[Unit]:
    """The root file and everything it imports, dependencies first."""
    done: dict[Path, Unit] = {}
    order: list[Unit] = []

    def visit(path: Path, shown: str | None, chain: list[tuple[Path, str, Span]]) -> Unit | None:
        key = path.resolve()
        if key in done:
            return done[key]
        in_chain = [i for i, link in enumerate(chain) if link[0] == key]
        if in_chain:
            cycle = chain[in_chain[0] :]
            names = [link[1] for link in cycle] + [cycle[0][1]]
            ctx.report(
                error(
                    "E0501",
                    "import cycle: " + " -> ".join(names),
                    chain[-1][2],
                    hint="move the shared declarations into a library that both import",
                    related=[
                        Related(message=f"{link[1]} imports {nxt}", span=link[2])
                        for link, nxt in zip(cycle, names[1:], strict=False)
                    ],
                )
            )
            return None
        source = read_source(path, shown)
        if isinstance(source, str):
            if chain:
                ctx.report(
                    error(
                        "E0502",
                        f"cannot import '{path.name}': {source}",
                        chain[-1][2],
                        hint="import paths are relative to the importing file",
                    )
                )
            else:
                ctx.report(error("E0001", f"{shown or path}: {source}", None))
            return None
        ctx.sources[source.name] = source
        if not source.text.strip() and not chain:
            ctx.report(
                error(
                    "E0002",
                    "the file is empty",
                    Span(file=source.name, line=1, col=1, end_line=1, end_col=1),
                    hint="a rule file declares a product (`product name`) or shared declarations",
                )
            )
        parsed = parse(source)
        ctx.diagnostics.extend(parsed.diagnostics)
        ctx.suppressed |= parsed.broken_names
        unit = Unit(path=path, source=source, parsed=parsed)
        if parsed.tree is not None:
            products = trees(parsed.tree, "product")
            unit.product = products[0] if products else None
            for extra in products[1:]:
                ctx.report(
                    error(
                        "E0506",
                        "a file declares one product; this is a second product line",
                        span_of(extra, source.name),
                        hint="put each product in its own file",
                    )
                )
            for stmt in trees(parsed.tree, "import_stmt"):
                if overlaps_error(stmt, unit):
                    continue
                target_token = tokens(stmt, "STRING")[0]
                target = path.parent / unquote(target_token)
                target_name = display_relative(source.name, unquote(target_token))
                span = span_of(stmt, source.name)
                child = visit(target, target_name, [*chain, (key, source.name, span)])
                if child is not None and child.product is not None:
                    product_name = str(tokens(child.product, "NAME")[0])
                    ctx.report(
                        error(
                            "E0503",
                            f"cannot import '{child.source.name}': it declares product "
                            f"'{product_name}'",
                            span,
                            hint="import a library (a file without a product line); move "
                            "the shared declarations there",
                        )
                    )
        done[key] = unit
        order.append(unit)
        return unit

    visit(root, None, [])
    return order


def display_relative(importer: str, target: str) -> str:
    """A path relative to the importing file, as messages show it (`..` folded away)."""
    base = Path(importer).parent
    joined = base / target
    parts: list[str] = []
    for part in joined.parts:
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return str(Path(*parts)) if parts else target


def overlaps_error(node: Node, unit: Unit) -> bool:
    """Whether a node spans a line with a syntax error (or has no position)."""
    lines = unit.parsed.error_lines
    if not lines:
        return False
    meta = node.meta
    if getattr(meta, "empty", True):
        return True
    return any(meta.line <= line <= meta.end_line for line in lines)


def read_text(text: str, name: str, ctx: Context) -> Unit | None:
    """Rule text from memory as one unit (it cannot import); None when it does not decode."""
    decoded = decode(text.encode("utf-8", "surrogatepass"), name)
    if isinstance(decoded, str):
        ctx.report(error("E0001", f"{name}: {decoded}", None))
        return None
    source = decoded
    ctx.sources[name] = source
    parsed = parse(source)
    ctx.diagnostics.extend(parsed.diagnostics)
    ctx.suppressed |= parsed.broken_names
    unit = Unit(path=None, source=source, parsed=parsed)
    if parsed.tree is not None:
        products = trees(parsed.tree, "product")
        unit.product = products[0] if products else None
        for stmt in trees(parsed.tree, "import_stmt"):
            ctx.report(
                error(
                    "E0502",
                    "rule text loaded from memory cannot import files",
                    span_of(stmt, name),
                    hint="load it from a file with atoconf.load(path)",
                )
            )
    return unit


@dataclass
class Decl:
    """One top-level declaration and the unit it is in."""

    node: Node
    unit: Unit

    @property
    def file(self) -> str:
        return self.unit.source.name

    @property
    def name_token(self) -> Token:
        return tokens(self.node)[0]

    @property
    def name(self) -> str:
        return str(self.name_token)

    def span(self, node: Node | Token | None = None) -> Span:
        return span_of(self.node if node is None else node, self.file)


def declarations(units: list[Unit], ctx: Context) -> dict[str, list[Decl]]:
    """The units' top-level declarations by kind; those on a syntax error are left out."""
    by_kind: dict[str, list[Decl]] = {}
    for unit in units:
        tree = unit.parsed.tree
        if tree is None:
            continue
        for node in trees(tree):
            if overlaps_error(node, unit):
                ctx.suppressed.update(str(t).strip('"') for t in leaves(node))
                continue
            by_kind.setdefault(node.data, []).append(Decl(node, unit))
    return by_kind
