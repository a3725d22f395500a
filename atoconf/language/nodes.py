"""Reading parse trees: a node's span in its file, its tokens and subtrees, the text of
a string literal, whether a number had its minus sign, and walks (leaves, depth) that
need no recursion."""

from __future__ import annotations

import re

from lark import Token, Tree

from atoconf.language.source import Span

Node = Tree[Token]


def span_of(node: Node | Token, file: str) -> Span:
    """Where a node or token is in `file`."""
    if isinstance(node, Token):
        return Span(
            file=file,
            line=node.line or 1,
            col=node.column or 1,
            end_line=node.end_line or node.line or 1,
            end_col=node.end_column or node.column or 1,
        )
    meta = node.meta
    if getattr(meta, "empty", True):
        return Span(file=file, line=1, col=1, end_line=1, end_col=1)
    return Span(
        file=file, line=meta.line, col=meta.column, end_line=meta.end_line, end_col=meta.end_column
    )


def tokens(node: Node, kind: str | None = None) -> list[Token]:
    """A node's child tokens, or those of one token type."""
    return [c for c in node.children if isinstance(c, Token) and (kind is None or c.type == kind)]


def trees(node: Node, data: str | None = None) -> list[Node]:
    """A node's child trees, or those of one rule."""
    return [c for c in node.children if isinstance(c, Tree) and (data is None or c.data == data)]


def first_tree(node: Node, data: str) -> Node | None:
    found = trees(node, data)
    return found[0] if found else None


def unquote(token: Token) -> str:
    """The text of a STRING token: quotes removed, `\\"` and `\\\\` unescaped."""
    body = str(token)[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\(.)", r"\1", body)


def leaves(node: Node) -> list[Token]:
    """Every token under a node, in order, without recursion (trees can be deep)."""
    out: list[Token] = []
    stack: list[Node | Token] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Token):
            out.append(item)
        else:
            stack.extend(reversed(item.children))
    return out


def tree_depth(node: Node) -> int:
    deepest = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in item.children if isinstance(c, Tree))
    return deepest


def has_minus(node: Node, number: Token) -> bool:
    """Whether a `"-"? NUMBER` rule had its (filtered-out) minus sign."""
    meta = node.meta
    return not getattr(meta, "empty", True) and meta.start_pos < (number.start_pos or 0)
