"""Requests: a customer's order read from JSON, the API or command-line
flags, and checked against a model into the terms the solver works with."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from atoconf.language.context import did_you_mean
from atoconf.language.diagnostics import (
    Checked,
    Diagnostic,
    Related,
    error,
    has_errors,
    sort_key,
)
from atoconf.language.model import Component, Expr, Model, Option, Value, ValueType
from atoconf.language.source import SourceFile, Span
from atoconf.language.typecheck import typed_expression

KEYS = ("select", "require", "minimize", "maximize", "limit", "deadline")

SelectValue = str | int | bool | None
# A field of a request: ("limit",), ("select", "cpu"), ("require", 0)
FieldPath = tuple[str | int, ...]

_KEYS_HINT = (
    "a request has only the keys select, require, minimize, maximize, limit and deadline; "
    'choices go under "select"'
)
_INTEGER = re.compile(r"-?[0-9]{1,30}")


class Request(BaseModel):
    """A customer's order: fixed choices, extra conditions, one objective, limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # component -> SKU or None, "name.qty" -> int, option -> member name, int or bool
    select: dict[str, str | int | bool | None] = {}
    require: tuple[str, ...] = ()
    minimize: str | None = None
    maximize: str | None = None
    limit: int | None = Field(default=None, ge=1)
    deadline: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_objective(self) -> Request:
        if self.minimize is not None and self.maximize is not None:
            raise ValueError("minimize and maximize cannot both be given")
        return self


@dataclass(frozen=True)
class Objective:
    """What ranks assemblies: a numeric expression, as written, to minimise or maximise."""

    sense: Literal["min", "max"]
    text: str
    expr: Expr

    @property
    def minimize(self) -> Expr | None:
        return self.expr if self.sense == "min" else None

    @property
    def maximize(self) -> Expr | None:
        return self.expr if self.sense == "max" else None


@dataclass(frozen=True)
class ResolvedRequest:
    """A request checked against a model, keyed by solver variable."""

    # component -> SKU or None; "name.qty" -> int; option -> member, int or bool
    selects: dict[str, Value]
    # each `require` as written, with its typed expression
    requires: tuple[tuple[str, Expr], ...]
    objective: Objective | None
    limit: int | None
    deadline: float | None
    request: Request


# ---- pydantic errors as diagnostics --------------------------------------------------

_EXPECTED: dict[str, str] = {
    "select": 'an object of choices, such as {"cpu": "CPU-R7-7700X"}',
    "select.*": "a part number (a string), a whole number, true, false or null",
    "require": "a list of conditions (strings)",
    "require.*": "a condition (a string)",
    "minimize": 'an expression (a string), such as "total(price)"',
    "maximize": 'an expression (a string), such as "total(price)"',
    "limit": "a whole number >= 1",
    "deadline": "a number of seconds > 0",
}


def path_text(path: FieldPath) -> str:
    """`select.cpu`, `require[1]`, `limit`: a field as messages name it."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _field_of(details: ErrorDetails) -> FieldPath:
    """The field a pydantic error is about, without the union member it tried."""
    loc = details["loc"]
    if loc and loc[0] in ("select", "require"):
        return tuple(loc[:2])
    return tuple(loc[:1])


def _shown(value: object) -> str:
    """A value as JSON would write it, short."""
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _problem(details: ErrorDetails, path: FieldPath) -> tuple[str, str, str | None]:
    """(code, message after the field name, hint) for one pydantic error."""
    key = path[0] if path else ""
    if details["type"] == "extra_forbidden":
        return "E0702", "unknown request key", did_you_mean(str(key), KEYS) or _KEYS_HINT
    expected = _EXPECTED.get(f"{key}.*" if len(path) > 1 else str(key), "something else")
    value = details["input"]
    hint: str | None = None
    if key == "require" and len(path) == 1 and isinstance(value, str):
        hint = f"write a list: [{json.dumps(value, ensure_ascii=False)}]"
    return "E0704", f"must be {expected}, not {_shown(value)}", hint


def _validation_diagnostics(
    exc: ValidationError,
    place: Callable[[FieldPath], tuple[str, Span | None]],
    data: dict[str, Any],
) -> list[Diagnostic]:
    """One diagnostic per bad field of `data`; `place` names a field and finds its span."""
    out: list[Diagnostic] = []
    if data.get("minimize") is not None and data.get("maximize") is not None:
        # pydantic checks this only when every field is right; report it always
        shown, span = place(("maximize",))
        other = place(("minimize",))[0]
        message = f"{shown}: cannot be given together with {other}; a request has one objective"
        out.append(error("E0704", message, span, hint="keep one objective"))
    seen: set[FieldPath] = set()
    for details in exc.errors():
        path = _field_of(details)
        if path in seen or details["type"] == "value_error":
            continue
        seen.add(path)
        code, message, hint = _problem(details, path)
        shown, span = place(path)
        out.append(error(code, f"{shown}: {message}", span, hint=hint))
    return out


# ---- JSON ---------------------------------------------------------------------------


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once."""

    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.repeated = []
    for key, value in pairs:
        if key in obj and key not in obj.repeated:
            obj.repeated.append(key)
        obj[key] = value
    return obj


def _json_hint(exc: json.JSONDecodeError) -> str | None:
    msg = exc.msg
    if msg.startswith("Expecting property name"):
        return "keys need double quotes, and no comma may follow the last item"
    if msg.startswith("Expecting value"):
        if not exc.doc[exc.pos :].strip():
            return "the text ends before the request is complete"
        return "values are strings in double quotes, numbers, true, false, null, lists or objects"
    if msg.startswith("Expecting ',' delimiter"):
        return "a comma is missing between two items, or a bracket is not closed"
    if msg.startswith("Extra data"):
        return "a request is one JSON object; the text goes on after its closing }"
    if msg.startswith("Unterminated string"):
        return "close the string with a double quote"
    return None


def _load_json(source: SourceFile) -> tuple[object, list[Diagnostic]]:
    """The parsed JSON, or a diagnostic at the line and column where it breaks."""
    try:
        return json.loads(source.text, object_pairs_hook=_object), []
    except json.JSONDecodeError as exc:
        span = Span(
            file=source.name,
            line=exc.lineno,
            col=exc.colno,
            end_line=exc.lineno,
            end_col=exc.colno + 1,
        )
        message = f"the request is not valid JSON: {exc.msg[:1].lower()}{exc.msg[1:]}"
        return None, [error("E0701", message, span, hint=_json_hint(exc))]
    except RecursionError:
        return None, [error("E0701", "the request nests lists or objects too deeply", None)]
    except ValueError:  # an integer with more digits than Python converts
        return None, [error("E0701", "the request has a number with too many digits", None)]


KeyOffsets = dict[tuple[str, ...], list[tuple[int, int]]]


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],]')  # a string, or a bracket or comma
_COLON = re.compile(r"\s*:")


def _key_offsets(text: str) -> KeyOffsets:
    """Where each object key of valid JSON sits: its path of keys -> (start, end) of
    every occurrence, quotes included. Keys inside lists are left out."""
    found: KeyOffsets = {}
    stack: list[tuple[str, ...] | None] = []  # the path of each open object; None: a list
    pending: tuple[str, ...] | None = None  # the key whose value comes next
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token.startswith('"'):
            parent = stack[-1] if stack else None
            if parent is not None and _COLON.match(text, match.end()):
                pending = (*parent, json.loads(token))
                found.setdefault(pending, []).append(match.span())
            continue
        if token == "{":
            stack.append(() if not stack else pending)
        elif token == "[":
            stack.append(None)
        elif token != "," and stack:
            stack.pop()
        pending = None
    return found


def _key_span(
    source: SourceFile, offsets: KeyOffsets, keys: Sequence[str], nth: int = 1
) -> Span | None:
    """The span of the `nth` occurrence of a key, given by its path."""
    places = offsets.get(tuple(keys), [])
    if len(places) < nth:
        return None
    start, end = places[nth - 1]
    return source.span(start, end)


def _json_place(
    source: SourceFile, offsets: KeyOffsets
) -> Callable[[FieldPath], tuple[str, Span | None]]:
    def place(path: FieldPath) -> tuple[str, Span | None]:
        keys = [part for part in path if isinstance(part, str)]
        return path_text(path), _key_span(source, offsets, keys)

    return place


def _repeated_keys(
    source: SourceFile, offsets: KeyOffsets, data: dict[str, Any]
) -> list[Diagnostic]:
    """A key given twice at the top or in `select`: JSON would silently keep the last."""
    found: list[tuple[str, ...]] = [(key,) for key in getattr(data, "repeated", [])]
    select = data.get("select")
    found += [("select", key) for key in getattr(select, "repeated", [])]
    return [
        error(
            "E0704",
            f"{path_text(keys)}: given twice in one object",
            _key_span(source, offsets, keys, nth=2),
            hint="remove one of them; JSON would keep only the last",
        )
        for keys in found
    ]


def _first_character(source: SourceFile) -> Span | None:
    stripped = source.text.lstrip()
    if not stripped:
        return None
    start = len(source.text) - len(stripped)
    return source.span(start, start + 1)


def request_from_json(text: str, name: str) -> Checked[Request]:
    """Read a request from JSON text; diagnostics in `name` (the one source) when it is
    not one."""
    source = SourceFile(name=name, text=text.removeprefix("\ufeff"))
    sources = {name: source}
    data, diagnostics = _load_json(source)
    if diagnostics:
        return Checked(None, diagnostics, sources)
    if not isinstance(data, dict):
        message = (
            f'the request must be a JSON object such as {{"select": {{...}}}}, not {_shown(data)}'
        )
        return Checked(None, [error("E0704", message, _first_character(source))], sources)
    offsets = _key_offsets(source.text)
    diagnostics = _repeated_keys(source, offsets, data)
    prepared = dict(data)
    if isinstance(prepared.get("select"), dict):
        prepared["select"] = dict(prepared["select"])
    if isinstance(prepared.get("require"), list):
        prepared["require"] = tuple(prepared["require"])
    try:
        request = Request.model_validate(prepared, strict=True)
    except ValidationError as exc:
        found = _validation_diagnostics(exc, _json_place(source, offsets), prepared)
        return Checked(None, sorted(diagnostics + found, key=sort_key), sources)
    if diagnostics:
        return Checked(None, sorted(diagnostics, key=sort_key), sources)
    return Checked(request, [], sources)


# ---- command-line flags -------------------------------------------------------------


def _flag_place(path: FieldPath) -> tuple[str, Span | None]:
    head = str(path[0]) if path else ""
    if head == "select" and len(path) > 1:
        return f"--set {path[1]}", None
    if head == "require":
        return "--require", None
    return f"--{head}", None


def parse_set(item: str) -> tuple[str, SelectValue] | Diagnostic:
    """`--set k=v`: v is `none`, `true`, `false`, an integer, or else a string
    (surrounding quotes removed, so `"true"` and `"42"` stay strings)."""
    key, equals, raw = item.partition("=")
    key, raw = key.strip(), raw.strip()
    if not equals or not key:
        return error(
            "E0710",
            f"--set {item}: expected key=value",
            None,
            hint="such as --set cpu=CPU-R7-7700X, --set memory.qty=2 or --set gpu=none",
        )
    if not raw:
        return error(
            "E0710",
            f"--set {item}: no value after '='",
            None,
            hint=f"to select none, write --set {key}=none",
        )
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return key, raw[1:-1]
    if raw == "none":
        return key, None
    if raw in ("true", "false"):
        return key, raw == "true"
    if _INTEGER.fullmatch(raw):
        return key, int(raw)
    return key, raw


def request_from_flags(
    sets: list[str],
    requires: list[str],
    minimize: str | None,
    maximize: str | None,
    limit: int | None,
    deadline: float | None,
    base: Request | None = None,
) -> Checked[Request]:
    """A request from `--set`, `--require`, `--minimize`, `--maximize`, `--limit` and
    `--deadline`: `--set` overrides `base`'s choices, `--require` adds to its conditions,
    an objective flag replaces its objective, and `--limit`/`--deadline` replace its own."""
    start = base or Request()
    diagnostics: list[Diagnostic] = []
    select = dict(start.select)
    for item in sets:
        parsed = parse_set(item)
        if isinstance(parsed, Diagnostic):
            diagnostics.append(parsed)
        else:
            select[parsed[0]] = parsed[1]
    if minimize is None and maximize is None:
        minimize, maximize = start.minimize, start.maximize
    data: dict[str, Any] = {
        "select": select,
        "require": (*start.require, *requires),
        "minimize": minimize,
        "maximize": maximize,
        "limit": start.limit if limit is None else limit,
        "deadline": start.deadline if deadline is None else deadline,
    }
    try:
        request = Request.model_validate(data)
    except ValidationError as exc:
        return Checked(None, diagnostics + _validation_diagnostics(exc, _flag_place, data))
    if diagnostics:
        return Checked(None, diagnostics)
    return Checked(request, [])


# ---- checking a request against a model ----------------------------------------------


def _a(vtype: ValueType) -> str:
    """What an expression of this type is, in words."""
    if vtype.is_number:
        return "a number"
    if vtype.kind == "bool":
        return "a condition"
    if vtype.kind == "enum":
        name = str(vtype.name)
        return f"a value of {name}" if name.startswith("option ") else f"a {name} value"
    if vtype.kind == "component":
        return f"a component (of type {vtype.name})"
    if vtype.kind == "none":
        return "none"
    return f"a {vtype}"


def _members(values: Sequence[Value]) -> str:
    shown = [str(v) for v in values[:8]]
    return ", ".join(shown) + (", ..." if len(values) > 8 else "")


def _select_qty(model: Model, key: str, value: SelectValue) -> Value | Diagnostic:
    field = f"select.{key}"
    name = key.removesuffix(".qty")
    comp = model.components.get(name)
    if comp is None:
        if name in model.options:
            message = f"{field}: '{name}' is an option; only components have a quantity"
            return error("E0705", message, None)
        hint = did_you_mean(name, model.components)
        return error("E0705", f"{field}: unknown component '{name}'", None, hint=hint)
    if comp.qty_min == comp.qty_max:
        return error(
            "E0707",
            f"{field}: {name}'s quantity is fixed at {comp.qty_min}",
            None,
            hint=f"only a component declared with `qty a..b` takes a quantity; "
            f"'{name}' is declared at {comp.span}",
        )
    if not isinstance(value, int) or isinstance(value, bool):
        message = f"{field}: must be a whole number, not {_shown(value)}"
        return error("E0703", message, None, hint=f"{name} takes {comp.qty_min}..{comp.qty_max}")
    if value == 0 and comp.optional:
        return value  # an absent component's quantity (as `domains` lists it)
    if not comp.qty_min <= value <= comp.qty_max:
        hint = f"component '{name}' is not optional" if value == 0 else None
        return error(
            "E0703",
            f"{field}: {value} is outside {name}'s quantity range {comp.qty_min}..{comp.qty_max}",
            None,
            hint=hint,
        )
    return value


def _unusable_sku(model: Model, field: str, comp: Component, sku: str) -> Diagnostic:
    """Why a SKU is not among a component's parts."""
    part = model.parts.get(sku)
    if part is None:
        hint = did_you_mean(sku, comp.parts)
        return error("E0706", f"{field}: unknown part number '{sku}'", None, hint=hint)
    if part.type != comp.type:
        takers = [c.name for c in model.components.values() if sku in c.parts]
        hint = (
            f"did you mean to select it for '{takers[0]}'?"
            if takers
            else f"choose one of its {len(comp.parts)} {comp.type} parts"
        )
        return error(
            "E0706",
            f"{field}: '{sku}' is a {part.type}, but component '{comp.name}' takes a {comp.type}",
            None,
            hint=hint,
        )
    where = comp.where.span if comp.where is not None else comp.span
    of_type = sum(1 for p in model.parts.values() if p.type == comp.type)
    return error(
        "E0706",
        f"{field}: '{sku}' is excluded from component '{comp.name}' by its `where` ({where})",
        None,
        hint=f"component '{comp.name}' takes {len(comp.parts)} of the {of_type} {comp.type} parts",
        related=[Related(message=f"the `where` of component '{comp.name}'", span=where)],
    )


def _select_component(model: Model, comp: Component, value: SelectValue) -> Value | Diagnostic:
    field = f"select.{comp.name}"
    if value is None:
        if comp.optional:
            return None
        return error(
            "E0703",
            f"{field}: component '{comp.name}' is not optional; it cannot be none (null)",
            None,
            hint=f"choose one of its {len(comp.parts)} parts",
        )
    if not isinstance(value, str):
        hint = None
        if isinstance(value, int) and not isinstance(value, bool) and comp.qty_max > 1:
            hint = f'for its quantity, select "{comp.name}.qty": {value}'
        message = (
            f"{field}: component '{comp.name}' is chosen by part number (a string), "
            f"not {_shown(value)}"
        )
        return error("E0703", message, None, hint=hint)
    if value in comp.parts:
        return value
    return _unusable_sku(model, field, comp, value)


def _select_option(option: Option, value: SelectValue) -> Value | Diagnostic:
    field = f"select.{option.name}"
    if option.kind == "enum":
        if isinstance(value, str) and value in option.values:
            return value
        if isinstance(value, str):
            members = [str(v) for v in option.values]
            return error(
                "E0703",
                f"{field}: '{value}' is not a value of option '{option.name}'",
                None,
                hint=did_you_mean(value, members) or f"choose one of {_members(option.values)}",
            )
        expected = f"one of {_members(option.values)}"
    elif option.kind == "int":
        low, high = cast(int, option.values[0]), cast(int, option.values[-1])
        if isinstance(value, int) and not isinstance(value, bool):
            if low <= value <= high:
                return value
            return error(
                "E0703", f"{field}: {value} is outside option '{option.name}' ({low}..{high})", None
            )
        expected = f"a whole number in {low}..{high}"
    else:
        if isinstance(value, bool):
            return value
        expected = "true or false"
    hint = f"leave '{option.name}' out to keep it open" if value is None else None
    message = f"{field}: option '{option.name}' takes {expected}, not {_shown(value)}"
    return error("E0703", message, None, hint=hint)


def _literal(value: SelectValue) -> str:
    """A select value as the rule language writes it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _select(model: Model, key: str, value: SelectValue) -> Value | Diagnostic:
    """The solver value for one select item, or why it cannot be chosen."""
    if key.endswith(".qty"):
        return _select_qty(model, key, value)
    if key in model.components:
        return _select_component(model, model.components[key], value)
    if key in model.options:
        return _select_option(model.options[key], value)
    if "." in key:
        return error(
            "E0705",
            f"select.{key}: only a component, its quantity (name.qty) or an option can be selected",
            None,
            hint=f'put conditions on attributes in "require", such as "{key} == {_literal(value)}"',
        )
    hint = did_you_mean(key, [*model.components, *model.options])
    return error("E0705", f"select.{key}: unknown component or option '{key}'", None, hint=hint)


def _prefixed(field: str, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d.model_copy(update={"message": f"{field}: {d.message}"}) for d in diagnostics]


def _expression(
    model: Model, text: str, field: str, want: Literal["bool", "number"]
) -> Checked[Expr]:
    """A request expression typed against the model; it must be a condition or a number."""
    typed = typed_expression(model, text, field)
    expr, diagnostics, sources = typed.value, _prefixed(field, typed.diagnostics), typed.sources
    if expr is None or has_errors(diagnostics):
        return Checked(None, diagnostics, sources)
    if want == "bool" and expr.type.kind != "bool":
        hint = (
            f"to require the component, write `{text.strip()} != none`"
            if expr.type.kind == "component"
            else "compare it with something, such as `gpu.vram_gb >= 12`"
        )
        message = f"{field}: must be a condition (true or false), not {_a(expr.type)}"
        return Checked(None, [*diagnostics, error("E0708", message, expr.span, hint=hint)], sources)
    if want == "number" and not expr.type.is_number:
        hint = (
            "to prefer assemblies where a condition holds, use `if ... then 1 else 0`"
            if expr.type.kind == "bool"
            else "such as `total(price)`"
        )
        message = f"{field}: must be a number, not {_a(expr.type)}"
        return Checked(None, [*diagnostics, error("E0709", message, expr.span, hint=hint)], sources)
    return Checked(expr, diagnostics, sources)


def resolve_request(model: Model, request: Request) -> Checked[ResolvedRequest]:
    """Check every item of a request against a model: the resolved request (None when
    any item is wrong), every diagnostic, and the expression sources they point into."""
    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    selects: dict[str, Value] = {}
    for key, value in request.select.items():
        resolved = _select(model, key, value)
        if isinstance(resolved, Diagnostic):
            diagnostics.append(resolved)
        else:
            selects[key] = resolved
    requires: list[tuple[str, Expr]] = []
    for i, text in enumerate(request.require):
        typed = _expression(model, text, f"require[{i}]", "bool")
        diagnostics += typed.diagnostics
        sources.update(typed.sources)
        if typed.value is not None:
            requires.append((text, typed.value))
    objective: Objective | None = None
    for sense, goal in (("min", request.minimize), ("max", request.maximize)):
        if goal is None:
            continue
        field = "minimize" if sense == "min" else "maximize"
        typed = _expression(model, goal, field, "number")
        diagnostics += typed.diagnostics
        sources.update(typed.sources)
        if typed.value is not None:
            objective = Objective("min" if sense == "min" else "max", goal, typed.value)
    if has_errors(diagnostics):
        return Checked(None, diagnostics, sources)
    resolved_request = ResolvedRequest(
        selects=selects,
        requires=tuple(requires),
        objective=objective,
        limit=request.limit,
        deadline=request.deadline,
        request=request,
    )
    return Checked(resolved_request, diagnostics, sources)


def locate_in_json(diagnostics: list[Diagnostic], source: SourceFile) -> list[Diagnostic]:
    """Point `select.KEY` errors, found against the model, at KEY in the request file."""
    offsets = _key_offsets(source.text)
    located = []
    for d in diagnostics:
        if d.span is None and d.message.startswith("select."):
            key = d.message.split(":", 1)[0].removeprefix("select.")
            span = _key_span(source, offsets, ["select", key])
            if span is not None:
                d = d.model_copy(update={"span": span})
        located.append(d)
    return located
