"""Requests (SPEC §2): the JSON shape, reading JSON and flags, and checking a request
against a model, with the exact message for every bad item."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import atoconf
from atoconf.engine.request import (
    Request,
    ResolvedRequest,
    _key_offsets,
    parse_set,
    path_text,
    request_from_flags,
    request_from_json,
    resolve_request,
)
from atoconf.engine.setup import each_default
from atoconf.language.diagnostics import Checked, Diagnostic, render_text
from atoconf.language.model import Model, Value
from atoconf.language.source import SourceFile
from tests.conftest import BIKE, FIXTURES, PC, load_model

REQUESTS = FIXTURES / "requests"

SPEC_EXAMPLE: dict[str, Any] = {
    "select": {"usage": "gaming", "case": "CASE-FD-7", "memory.qty": 2},
    "require": ["gpu.vram_gb >= 12", "total(price) <= 2000"],
    "minimize": "total(price)",
    "limit": 5,
}

TINY = """\
product tiny
enum Socket { AM5, LGA1700 }
type CPU { socket: Socket  price: decimal }
type GPU { vram_gb: int  price: decimal }
parts CPU {
  "CPU-A": socket=AM5, price=100
  "CPU-B": socket=LGA1700, price=150
}
parts GPU {
  "GPU-8": vram_gb=8, price=300
  "GPU-16": vram_gb=16, price=600
}
component cpu: CPU where socket == AM5
component gpu: GPU qty 1..2 optional
option usage: enum { office, gaming } default office
option socket_pref: Socket
option years: int 1..3 default 1
option rgb: bool
"""


@pytest.fixture(scope="module")
def pc() -> Model:
    return atoconf.load(PC)


@pytest.fixture(scope="module")
def tiny() -> Model:
    return load_model(TINY, "tiny.ato", strict=True)


def diagnostics_of(result: Checked[Request]) -> list[Diagnostic]:
    assert result.value is None and result.diagnostics, f"expected diagnostics, got {result!r}"
    assert not result.ok
    return result.diagnostics


def request_of(result: Checked[Request]) -> Request:
    assert result.value is not None, [d.message for d in result.diagnostics]
    assert result.ok and result.diagnostics == []
    return result.value


def resolved_of(model: Model, request: Request) -> ResolvedRequest:
    checked = resolve_request(model, request)
    assert [d.message for d in checked.diagnostics] == []
    assert checked.value is not None and checked.ok
    return checked.value


def one_error(model: Model, request: Request) -> Diagnostic:
    checked = resolve_request(model, request)
    assert checked.value is None and not checked.ok
    assert len(checked.diagnostics) == 1, [d.message for d in checked.diagnostics]
    return checked.diagnostics[0]


# ---- the JSON shape --------------------------------------------------------------------


def test_the_spec_example_round_trips() -> None:
    request = request_of(request_from_json(json.dumps(SPEC_EXAMPLE), "order.json"))
    assert request.select == {"usage": "gaming", "case": "CASE-FD-7", "memory.qty": 2}
    assert request.require == ("gpu.vram_gb >= 12", "total(price) <= 2000")
    assert request.minimize == "total(price)"
    assert request.maximize is None
    assert request.limit == 5
    assert request.deadline is None
    dumped = request.model_dump(mode="json", exclude_defaults=True)
    assert dumped == SPEC_EXAMPLE
    assert list(dumped) == ["select", "require", "minimize", "limit"]
    assert request_of(request_from_json(json.dumps(dumped), "again.json")) == request


def test_the_fixture_file_reads_as_the_spec_example() -> None:
    text = (REQUESTS / "gaming.json").read_text(encoding="utf-8")
    request = request_of(request_from_json(text, "gaming.json"))
    assert request.model_dump(mode="json", exclude_defaults=True) == SPEC_EXAMPLE


def test_an_empty_request_dumps_to_an_empty_object() -> None:
    assert Request().model_dump(mode="json", exclude_defaults=True) == {}
    assert request_of(request_from_json("{}", "empty.json")) == Request()


def test_null_selects_none_and_survives_the_round_trip() -> None:
    request = request_of(request_from_json('{"select": {"gpu": null}}', "r.json"))
    assert request.select == {"gpu": None}
    assert request.model_dump(mode="json", exclude_defaults=True) == {"select": {"gpu": None}}


def test_json_values_keep_their_types() -> None:
    text = '{"select": {"cpu": "CPU-A", "gpu.qty": 2, "rgb": true, "years": 3}, "deadline": 2}'
    request = request_of(request_from_json(text, "r.json"))
    assert request.select == {"cpu": "CPU-A", "gpu.qty": 2, "rgb": True, "years": 3}
    assert type(request.select["rgb"]) is bool
    assert type(request.select["gpu.qty"]) is int
    assert request.deadline == 2.0
    assert request.model_dump(mode="json", exclude_defaults=True)["deadline"] == 2.0


def test_a_byte_order_mark_is_ignored() -> None:
    assert request_of(request_from_json('\ufeff{"limit": 3}', "r.json")).limit == 3


def test_the_model_is_frozen_and_closed() -> None:
    request = Request(limit=2)
    with pytest.raises(ValidationError):
        request.limit = 3
    with pytest.raises(ValidationError, match="Extra inputs"):
        Request.model_validate({"limt": 2})
    with pytest.raises(ValidationError, match="minimize and maximize cannot both be given"):
        Request(minimize="total(price)", maximize="cpu.cores")
    with pytest.raises(ValidationError):
        Request(limit=0)
    with pytest.raises(ValidationError):
        Request(deadline=0.0)
    with pytest.raises(ValidationError):
        Request(deadline=float("inf"))


def test_field_paths_read_as_in_messages() -> None:
    assert path_text(("select", "memory.qty")) == "select.memory.qty"
    assert path_text(("require", 1)) == "require[1]"
    assert path_text(("limit",)) == "limit"


# ---- malformed JSON ----------------------------------------------------------------------


def test_malformed_json_points_at_the_line_and_column() -> None:
    text = (REQUESTS / "missing_comma.json").read_text(encoding="utf-8")
    [d] = diagnostics_of(request_from_json(text, "missing_comma.json"))
    assert d.code == "E0701"
    assert d.message == "the request is not valid JSON: expecting ',' delimiter"
    assert d.span is not None
    assert (d.span.file, d.span.line, d.span.col) == ("missing_comma.json", 5, 5)
    assert d.hint == "a comma is missing between two items, or a bracket is not closed"
    rendered = render_text([d], {"missing_comma.json": SourceFile("missing_comma.json", text)})
    assert rendered.splitlines()[:4] == [
        "missing_comma.json:5:5: error[E0701]: the request is not valid JSON: "
        "expecting ',' delimiter",
        "  |",
        '5 |     "gpu": null',
        "  |     ^",
    ]


@pytest.mark.parametrize(
    ("text", "line", "col", "message", "hint"),
    [
        (
            '{"select": {"cpu": "x",}}',
            1,
            24,
            "expecting property name enclosed in double quotes",
            "keys need double quotes, and no comma may follow the last item",
        ),
        (
            "{'limit': 1}",
            1,
            2,
            "expecting property name enclosed in double quotes",
            "keys need double quotes, and no comma may follow the last item",
        ),
        ("", 1, 1, "expecting value", "the text ends before the request is complete"),
        (
            '{"limit": None}',
            1,
            11,
            "expecting value",
            "values are strings in double quotes, numbers, true, false, null, lists or objects",
        ),
        (
            '{"limit": 1}\n{"limit": 2}',
            2,
            1,
            "extra data",
            "a request is one JSON object; the text goes on after its closing }",
        ),
        (
            '{"select": {"cpu": "CPU-A}}',
            1,
            20,
            "unterminated string starting at",
            "close the string with a double quote",
        ),
    ],
)
def test_malformed_json(text: str, line: int, col: int, message: str, hint: str) -> None:
    [d] = diagnostics_of(request_from_json(text, "bad.json"))
    assert d.code == "E0701"
    assert d.message == f"the request is not valid JSON: {message}"
    assert d.hint == hint
    assert d.span is not None
    assert (d.span.file, d.span.line, d.span.col) == ("bad.json", line, col)


def test_absurd_json_is_reported_not_raised() -> None:
    [deep] = diagnostics_of(request_from_json("[" * 100_000, "deep.json"))
    assert (deep.code, deep.message) == ("E0701", "the request nests lists or objects too deeply")
    [long] = diagnostics_of(request_from_json('{"limit": ' + "1" * 5000 + "}", "n.json"))
    assert (long.code, long.message) == ("E0701", "the request has a number with too many digits")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]":,. \n0123456789-eEtrufalsnselectrequirelimit'))
def test_any_text_gives_a_request_or_diagnostics(text: str) -> None:
    result = request_from_json(text, "fuzz.json")
    assert list(result.sources) == ["fuzz.json"]
    if result.value is None:
        assert result.diagnostics
        assert all(isinstance(d, Diagnostic) and d.is_error for d in result.diagnostics)
    else:
        assert isinstance(result.value, Request)
        assert result.ok and result.diagnostics == []


# ---- JSON of the wrong shape -------------------------------------------------------------


def test_the_top_level_must_be_an_object() -> None:
    [d] = diagnostics_of(request_from_json('  ["cpu"]', "r.json"))
    assert d.code == "E0704"
    assert d.message == 'the request must be a JSON object such as {"select": {...}}, not a list'
    assert d.span is not None
    assert (d.span.line, d.span.col) == (1, 3)
    [null] = diagnostics_of(request_from_json("null", "r.json"))
    assert null.message.endswith("not null")


def test_an_unknown_key_suggests_one_of_the_six() -> None:
    [d] = diagnostics_of(request_from_json('{"select": {}, "limt": 5}', "r.json"))
    assert d.code == "E0702"
    assert d.message == "limt: unknown request key"
    assert d.hint == "did you mean 'limit'?"
    assert d.span is not None
    assert (d.span.line, d.span.col, d.span.end_col) == (1, 16, 22)


def test_a_choice_outside_select_says_where_choices_go() -> None:
    [d] = diagnostics_of(request_from_json('{"cpu": "CPU-R7-7700X"}', "r.json"))
    assert d.message == "cpu: unknown request key"
    assert d.hint == (
        "a request has only the keys select, require, minimize, maximize, limit and deadline; "
        'choices go under "select"'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"limit": 0}', "limit: must be a whole number >= 1, not 0"),
        ('{"limit": "5"}', 'limit: must be a whole number >= 1, not "5"'),
        ('{"limit": 2.5}', "limit: must be a whole number >= 1, not 2.5"),
        ('{"limit": 5.0}', "limit: must be a whole number >= 1, not 5.0"),
        ('{"limit": true}', "limit: must be a whole number >= 1, not true"),
        ('{"deadline": 0}', "deadline: must be a number of seconds > 0, not 0"),
        ('{"deadline": -1.5}', "deadline: must be a number of seconds > 0, not -1.5"),
        ('{"deadline": "10s"}', 'deadline: must be a number of seconds > 0, not "10s"'),
        ('{"deadline": 1e999}', "deadline: must be a number of seconds > 0, not Infinity"),
        ('{"require": [1]}', "require[0]: must be a condition (a string), not 1"),
        ('{"require": {"a": 1}}', "require: must be a list of conditions (strings), not an object"),
        (
            '{"minimize": 3}',
            'minimize: must be an expression (a string), such as "total(price)", not 3',
        ),
        (
            '{"maximize": ["x"]}',
            'maximize: must be an expression (a string), such as "total(price)", not a list',
        ),
        (
            '{"select": []}',
            'select: must be an object of choices, such as {"cpu": "CPU-R7-7700X"}, not a list',
        ),
        (
            '{"select": {"cpu": 1.5}}',
            "select.cpu: must be a part number (a string), a whole number, true, false or null, "
            "not 1.5",
        ),
        (
            '{"select": {"memory.qty": 2.0}}',
            "select.memory.qty: must be a part number (a string), a whole number, true, false or "
            "null, not 2.0",
        ),
        (
            '{"select": {"cpu": {"sku": "x"}}}',
            "select.cpu: must be a part number (a string), a whole number, true, false or null, "
            "not an object",
        ),
    ],
)
def test_wrong_types_name_the_field(text: str, message: str) -> None:
    [d] = diagnostics_of(request_from_json(text, "r.json"))
    assert d.code == "E0704"
    assert d.message == message


def test_a_string_for_require_hints_at_a_list() -> None:
    [d] = diagnostics_of(request_from_json('{"require": "gpu != none"}', "r.json"))
    assert d.message == 'require: must be a list of conditions (strings), not "gpu != none"'
    assert d.hint == 'write a list: ["gpu != none"]'


def test_a_field_error_points_at_its_key() -> None:
    text = '{\n  "select": {\n    "limit": "x",\n    "cpu": 1.5\n  },\n  "limit": 0\n}'
    found = diagnostics_of(request_from_json(text, "r.json"))
    assert [(d.message.split(":")[0], d.span and (d.span.line, d.span.col)) for d in found] == [
        ("select.cpu", (4, 5)),
        ("limit", (6, 3)),
    ]


def test_a_key_is_found_at_its_own_depth_not_in_values_or_lists() -> None:
    text = '{"select": {"cpu": "limit", "x": [{"limit": 1}]},\n "limit"  :\n 0}'
    found = diagnostics_of(request_from_json(text, "r.json"))
    assert [(d.message.split(":")[0], d.span and d.span.line) for d in found] == [
        ("select.x", 1),
        ("limit", 2),
    ]
    span = found[1].span
    assert span is not None
    assert (span.col, span.end_col) == (2, 9)


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


def _object_keys(value: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if not isinstance(value, dict):
        return []
    out = []
    for key, inner in value.items():
        out.append((*path, key))
        out += _object_keys(inner, (*path, key))
    return out


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=4), st.sampled_from([None, 2]))
def test_key_offsets_find_every_key_of_nested_objects(
    data: dict[str, Any], indent: int | None
) -> None:
    text = json.dumps(data, indent=indent)
    offsets = _key_offsets(text)
    keys = _object_keys(data)
    assert sorted(offsets) == sorted(keys)
    for path, places in offsets.items():
        assert [json.loads(text[start:end]) for start, end in places] == [path[-1]]


def test_minimize_and_maximize_together_is_an_error() -> None:
    text = '{"minimize": "total(price)", "maximize": "cpu.cores"}'
    [d] = diagnostics_of(request_from_json(text, "r.json"))
    assert d.code == "E0704"
    assert d.message == (
        "maximize: cannot be given together with minimize; a request has one objective"
    )
    assert d.hint == "keep one objective"
    assert d.span is not None
    assert (d.span.col, d.span.end_col) == (30, 40)


def test_every_field_error_is_reported_at_once_in_file_order() -> None:
    text = '{"limit": 0, "limt": 1, "minimize": "a", "maximize": "b", "deadline": -1}'
    found = diagnostics_of(request_from_json(text, "r.json"))
    assert [(d.code, d.message.split(":")[0]) for d in found] == [
        ("E0704", "limit"),
        ("E0702", "limt"),
        ("E0704", "maximize"),
        ("E0704", "deadline"),
    ]


def test_a_key_given_twice_is_an_error() -> None:
    text = '{"select": {"cpu": "CPU-A", "cpu": "CPU-B"}, "limit": 1, "limit": 2}'
    found = diagnostics_of(request_from_json(text, "r.json"))
    assert [(d.code, d.message) for d in found] == [
        ("E0704", "select.cpu: given twice in one object"),
        ("E0704", "limit: given twice in one object"),
    ]
    assert [d.span.col for d in found if d.span] == [29, 58]
    assert found[0].hint == "remove one of them; JSON would keep only the last"


# ---- flags ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "key", "value"),
    [
        ("cpu=CPU-R7-7700X", "cpu", "CPU-R7-7700X"),
        ("gpu=none", "gpu", None),
        ("rgb=true", "rgb", True),
        ("rgb=false", "rgb", False),
        ("memory.qty=2", "memory.qty", 2),
        ("offset=-3", "offset", -3),
        ("usage = gaming", "usage", "gaming"),
        ('sku="none"', "sku", "none"),
        ("sku='true'", "sku", "true"),
        ('sku="42"', "sku", "42"),
        ("name=a=b", "name", "a=b"),
        ("price=1.5", "price", "1.5"),
        ("flag=True", "flag", "True"),
    ],
)
def test_set_values(item: str, key: str, value: object) -> None:
    parsed = parse_set(item)
    assert parsed == (key, value)
    assert not isinstance(parsed, Diagnostic)
    assert type(parsed[1]) is type(value)


@pytest.mark.parametrize(
    ("item", "message", "hint"),
    [
        (
            "cpu",
            "--set cpu: expected key=value",
            "such as --set cpu=CPU-R7-7700X, --set memory.qty=2 or --set gpu=none",
        ),
        (
            "=CPU-A",
            "--set =CPU-A: expected key=value",
            "such as --set cpu=CPU-R7-7700X, --set memory.qty=2 or --set gpu=none",
        ),
        ("gpu=", "--set gpu=: no value after '='", "to select none, write --set gpu=none"),
    ],
)
def test_bad_set_syntax_names_the_flag(item: str, message: str, hint: str) -> None:
    [d] = diagnostics_of(request_from_flags([item], [], None, None, None, None))
    assert (d.code, d.message, d.hint, d.span) == ("E0710", message, hint, None)


def test_flags_build_a_request() -> None:
    request = request_of(
        request_from_flags(
            ["usage=gaming", "memory.qty=2", "gpu=none"],
            ["cpu.cores >= 8"],
            "total(price)",
            None,
            5,
            2.5,
        )
    )
    assert request == Request(
        select={"usage": "gaming", "memory.qty": 2, "gpu": None},
        require=("cpu.cores >= 8",),
        minimize="total(price)",
        limit=5,
        deadline=2.5,
    )


def test_flags_override_and_extend_a_request_file() -> None:
    base = Request.model_validate(SPEC_EXAMPLE)
    request = request_of(
        request_from_flags(
            ["usage=cad", "rgb=true"], ["cpu.cores >= 12"], None, "cpu.cores", None, 9.0, base
        )
    )
    assert request.select == {
        "usage": "cad",
        "case": "CASE-FD-7",
        "memory.qty": 2,
        "rgb": True,
    }
    assert request.require == ("gpu.vram_gb >= 12", "total(price) <= 2000", "cpu.cores >= 12")
    assert (request.minimize, request.maximize) == (None, "cpu.cores")
    assert (request.limit, request.deadline) == (5, 9.0)


def test_no_flags_keep_the_request_file() -> None:
    base = Request.model_validate(SPEC_EXAMPLE)
    assert request_of(request_from_flags([], [], None, None, None, None, base)) == base


def test_bad_flag_values_name_the_flag() -> None:
    found = diagnostics_of(
        request_from_flags(["x"], [], "total(price)", "cpu.cores", 0, float("nan"))
    )
    assert [(d.code, d.message) for d in found] == [
        ("E0710", "--set x: expected key=value"),
        (
            "E0704",
            "--maximize: cannot be given together with --minimize; a request has one objective",
        ),
        ("E0704", "--limit: must be a whole number >= 1, not 0"),
        ("E0704", "--deadline: must be a number of seconds > 0, not NaN"),
    ]


# ---- resolving against a model: what is right ----------------------------------------------


def test_the_spec_example_resolves_against_the_workstation(pc: Model) -> None:
    request = Request.model_validate(SPEC_EXAMPLE)
    checked = resolve_request(pc, request)
    resolved, diagnostics, sources = checked.value, checked.diagnostics, checked.sources
    assert diagnostics == []
    assert resolved is not None
    assert resolved.selects == {"usage": "gaming", "case": "CASE-FD-7", "memory.qty": 2}
    assert [text for text, _ in resolved.requires] == list(SPEC_EXAMPLE["require"])
    assert [expr.type.kind for _, expr in resolved.requires] == ["bool", "bool"]
    assert resolved.objective is not None
    objective = resolved.objective
    sense, text, expr = objective.sense, objective.text, objective.expr
    assert (sense, text, expr.kind, expr.type.kind) == ("min", "total(price)", "total", "decimal")
    assert (resolved.limit, resolved.deadline, resolved.request) == (5, None, request)
    assert sorted(sources) == ["minimize", "require[0]", "require[1]"]
    assert sources["require[1]"].text == "total(price) <= 2000"


def test_selects_take_the_type_of_their_variable(tiny: Model) -> None:
    request = Request(
        select={
            "cpu": "CPU-A",
            "gpu": None,
            "gpu.qty": 2,
            "usage": "gaming",
            "socket_pref": "LGA1700",
            "years": 3,
            "rgb": False,
        },
        maximize="gpu.vram_gb",
        deadline=0.5,
    )
    resolved = resolved_of(tiny, request)
    assert resolved.selects == {
        "cpu": "CPU-A",
        "gpu": None,
        "gpu.qty": 2,
        "usage": "gaming",
        "socket_pref": "LGA1700",
        "years": 3,
        "rgb": False,
    }
    assert resolved.requires == ()
    assert resolved.objective is not None
    assert (resolved.objective.sense, resolved.objective.text) == ("max", "gpu.vram_gb")
    assert resolved.deadline == 0.5


def test_an_empty_request_resolves_to_nothing(tiny: Model) -> None:
    resolved = resolved_of(tiny, Request())
    assert (resolved.selects, resolved.requires, resolved.objective) == ({}, (), None)


# ---- resolving against a model: every bad select item --------------------------------------

SELECT_ERRORS: list[tuple[str, object, str, str, str | None]] = [
    (
        "usag",
        "gaming",
        "E0705",
        "select.usag: unknown component or option 'usag'",
        "did you mean 'usage'?",
    ),
    (
        "cpux",
        "CPU-R7-7700X",
        "E0705",
        "select.cpux: unknown component or option 'cpux'",
        "did you mean 'cpu'?",
    ),
    (
        "cpu",
        "GPU-4070",
        "E0706",
        "select.cpu: 'GPU-4070' is a GPU, but component 'cpu' takes a CPU",
        "did you mean to select it for 'gpu'?",
    ),
    (
        "board",
        "MB-Z790-PP",
        "E0706",
        "select.board: unknown part number 'MB-Z790-PP'",
        "did you mean 'MB-Z790-P'?",
    ),
    (
        "case",
        None,
        "E0703",
        "select.case: component 'case' is not optional; it cannot be none (null)",
        "choose one of its 16 parts",
    ),
    (
        "memory",
        2,
        "E0703",
        "select.memory: component 'memory' is chosen by part number (a string), not 2",
        'for its quantity, select "memory.qty": 2',
    ),
    (
        "cpu",
        True,
        "E0703",
        "select.cpu: component 'cpu' is chosen by part number (a string), not true",
        None,
    ),
    (
        "gpux.qty",
        2,
        "E0705",
        "select.gpux.qty: unknown component 'gpux'",
        "did you mean 'gpu'?",
    ),
    (
        "usage.qty",
        2,
        "E0705",
        "select.usage.qty: 'usage' is an option; only components have a quantity",
        None,
    ),
    (
        "memory.qty",
        7,
        "E0703",
        "select.memory.qty: 7 is outside memory's quantity range 1..4",
        None,
    ),
    (
        "memory.qty",
        "2",
        "E0703",
        'select.memory.qty: must be a whole number, not "2"',
        "memory takes 1..4",
    ),
    (
        "memory.qty",
        0,
        "E0703",
        "select.memory.qty: 0 is outside memory's quantity range 1..4",
        "component 'memory' is not optional",
    ),
    (
        "usage",
        "gamin",
        "E0703",
        "select.usage: 'gamin' is not a value of option 'usage'",
        "did you mean 'gaming'?",
    ),
    (
        "usage",
        "workstation",
        "E0703",
        "select.usage: 'workstation' is not a value of option 'usage'",
        "choose one of office, gaming, cad",
    ),
    (
        "usage",
        None,
        "E0703",
        "select.usage: option 'usage' takes one of office, gaming, cad, not null",
        "leave 'usage' out to keep it open",
    ),
    (
        "warranty_years",
        9,
        "E0703",
        "select.warranty_years: 9 is outside option 'warranty_years' (1..5)",
        None,
    ),
    (
        "warranty_years",
        "3",
        "E0703",
        "select.warranty_years: option 'warranty_years' takes a whole number in 1..5, not \"3\"",
        None,
    ),
    (
        "warranty_years",
        True,
        "E0703",
        "select.warranty_years: option 'warranty_years' takes a whole number in 1..5, not true",
        None,
    ),
    (
        "rgb",
        "yes",
        "E0703",
        "select.rgb: option 'rgb' takes true or false, not \"yes\"",
        None,
    ),
    (
        "rgb",
        1,
        "E0703",
        "select.rgb: option 'rgb' takes true or false, not 1",
        None,
    ),
    (
        "cpu.socket",
        "AM5",
        "E0705",
        "select.cpu.socket: only a component, its quantity (name.qty) or an option can be selected",
        'put conditions on attributes in "require", such as "cpu.socket == AM5"',
    ),
]


@pytest.mark.parametrize(
    ("key", "value", "code", "message", "hint"),
    SELECT_ERRORS,
    ids=[f"{key}={value}" for key, value, *_ in SELECT_ERRORS],
)
def test_bad_select_items(
    pc: Model, key: str, value: str | int | bool | None, code: str, message: str, hint: str | None
) -> None:
    d = one_error(pc, Request(select={key: value}))
    assert (d.code, d.message, d.hint, d.span) == (code, message, hint, None)


def test_a_fixed_quantity_cannot_be_selected(pc: Model) -> None:
    d = one_error(pc, Request(select={"cpu.qty": 1}))
    assert d.code == "E0707"
    assert d.message == "select.cpu.qty: cpu's quantity is fixed at 1"
    assert d.hint == (
        "only a component declared with `qty a..b` takes a quantity; "
        f"'cpu' is declared at {pc.components['cpu'].span}"
    )


def test_a_sku_filtered_out_by_where_says_so(pc: Model) -> None:
    boot = pc.components["boot"]
    assert boot.where is not None
    where = boot.where.span
    assert (where.line, where.col) == (36, 29)
    d = one_error(pc, Request(select={"boot": "SSD-SA-1TB-870"}))
    assert d.code == "E0706"
    assert d.message == (
        f"select.boot: 'SSD-SA-1TB-870' is excluded from component 'boot' by its `where` ({where})"
    )
    assert d.hint == "component 'boot' takes 10 of the 18 Drive parts"
    assert [(r.message, r.span) for r in d.related] == [("the `where` of component 'boot'", where)]


def test_the_same_sku_is_fine_where_no_where_filters_it(pc: Model) -> None:
    resolved = resolved_of(pc, Request(select={"data": "SSD-SA-1TB-870", "data.qty": 2}))
    assert resolved.selects == {"data": "SSD-SA-1TB-870", "data.qty": 2}


def test_the_tiny_model_checks_skus_and_named_enum_options(tiny: Model) -> None:
    request = Request(
        select={"cpu": "CPU-B", "gpu": "CPU-A", "socket_pref": "AM4", "years": 0, "gpu.qty": 3}
    )
    checked = resolve_request(tiny, request)
    resolved, diagnostics = checked.value, checked.diagnostics
    assert resolved is None
    assert [(d.code, d.message, d.hint) for d in diagnostics] == [
        (
            "E0706",
            "select.cpu: 'CPU-B' is excluded from component 'cpu' by its `where` (tiny.ato:13:26)",
            "component 'cpu' takes 1 of the 2 CPU parts",
        ),
        (
            "E0706",
            "select.gpu: 'CPU-A' is a CPU, but component 'gpu' takes a GPU",
            "did you mean to select it for 'cpu'?",
        ),
        (
            "E0703",
            "select.socket_pref: 'AM4' is not a value of option 'socket_pref'",
            "did you mean 'AM5'?",
        ),
        ("E0703", "select.years: 0 is outside option 'years' (1..3)", None),
        ("E0703", "select.gpu.qty: 3 is outside gpu's quantity range 1..2", None),
    ]


def test_a_wrong_type_sku_no_component_takes_lists_the_choice(tiny: Model) -> None:
    text = TINY + 'type Fan { rpm: int }\nparts Fan { "FAN-1": rpm=900 }\n'
    d = one_error(load_model(text, "tiny.ato"), Request(select={"cpu": "FAN-1"}))
    assert d.message == "select.cpu: 'FAN-1' is a Fan, but component 'cpu' takes a CPU"
    assert d.hint == "choose one of its 1 CPU parts"


# ---- resolving against a model: expressions ----------------------------------------------


def test_a_require_that_does_not_type_check_points_inside_it(pc: Model) -> None:
    text = "gpu.vram_gb >= 12 and cpux.cores > 2"
    checked = resolve_request(pc, Request(require=("gpu != none", text)))
    resolved, diagnostics, sources = checked.value, checked.diagnostics, checked.sources
    assert resolved is None
    [d] = diagnostics
    assert d.code == "E0201"
    assert d.message == "require[1]: unknown component or enum 'cpux'"
    assert d.hint == "did you mean 'cpu'?"
    assert d.span is not None
    assert (d.span.file, d.span.line, d.span.col, d.span.end_col) == ("require[1]", 1, 23, 27)
    assert render_text(diagnostics, sources) == (
        "require[1]:1:23: error[E0201]: require[1]: unknown component or enum 'cpux'\n"
        "  |\n"
        "1 | gpu.vram_gb >= 12 and cpux.cores > 2\n"
        "  |                       ^^^^\n"
        "  = hint: did you mean 'cpu'?\n"
        "\n"
        "1 error, 0 warnings\n"
    )


def test_a_require_that_does_not_parse(pc: Model) -> None:
    d = one_error(pc, Request(require=("gpu.vram_gb >=",)))
    assert d.code == "E0101"
    assert d.message.startswith("require[0]: ")
    assert d.span is not None
    assert (d.span.file, d.span.line, d.span.col) == ("require[0]", 1, 15)


def test_a_require_with_a_type_mismatch(pc: Model) -> None:
    d = one_error(pc, Request(require=("cpu.socket == 5",)))
    assert (d.code, d.message) == ("E0301", "require[0]: cannot compare a Socket with an int")
    assert d.span is not None
    assert (d.span.file, d.span.col) == ("require[0]", 1)


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        (
            "total(price)",
            "require[0]: must be a condition (true or false), not a number",
            "compare it with something, such as `gpu.vram_gb >= 12`",
        ),
        (
            "gpu",
            "require[0]: must be a condition (true or false), not a component (of type GPU)",
            "to require the component, write `gpu != none`",
        ),
        (
            "cpu.socket",
            "require[0]: must be a condition (true or false), not a Socket value",
            "compare it with something, such as `gpu.vram_gb >= 12`",
        ),
        (
            "usage",
            "require[0]: must be a condition (true or false), not a value of option usage",
            "compare it with something, such as `gpu.vram_gb >= 12`",
        ),
    ],
)
def test_a_require_must_be_a_condition(pc: Model, text: str, message: str, hint: str) -> None:
    d = one_error(pc, Request(require=(text,)))
    assert (d.code, d.message, d.hint) == ("E0708", message, hint)
    assert d.span is not None
    assert (d.span.file, d.span.col, d.span.end_col) == ("require[0]", 1, len(text) + 1)


def test_a_bool_option_alone_is_a_fine_require(pc: Model) -> None:
    resolved = resolved_of(pc, Request(require=("rgb",)))
    assert resolved.requires[0][1].kind == "option"


@pytest.mark.parametrize("field", ["minimize", "maximize"])
def test_an_objective_must_be_a_number(pc: Model, field: str) -> None:
    d = one_error(pc, Request.model_validate({field: "gpu != none"}))
    assert d.code == "E0709"
    assert d.message == f"{field}: must be a number, not a condition"
    assert d.hint == "to prefer assemblies where a condition holds, use `if ... then 1 else 0`"
    assert d.span is not None
    assert d.span.file == field
    d = one_error(pc, Request.model_validate({field: "cpu.socket"}))
    assert (d.message, d.hint) == (
        f"{field}: must be a number, not a Socket value",
        "such as `total(price)`",
    )


def test_an_objective_that_does_not_type_check(pc: Model) -> None:
    d = one_error(pc, Request(maximize="total(prize)"))
    assert d.message.startswith("maximize: ")
    assert d.span is not None
    assert d.span.file == "maximize"


def test_every_bad_item_is_reported_at_once(pc: Model) -> None:
    text = (REQUESTS / "bad_items.json").read_text(encoding="utf-8")
    request = request_of(request_from_json(text, "bad_items.json"))
    checked = resolve_request(pc, request)
    resolved, diagnostics, sources = checked.value, checked.diagnostics, checked.sources
    assert resolved is None
    assert [(d.code, d.message.split(": ")[0]) for d in diagnostics] == [
        ("E0705", "select.usag"),
        ("E0706", "select.cpu"),
        ("E0706", "select.boot"),
        ("E0707", "select.cpu.qty"),
        ("E0201", "require[0]"),
        ("E0708", "require[1]"),
        ("E0709", "minimize"),
    ]
    assert sorted(sources) == ["minimize", "require[0]", "require[1]"]
    rendered = render_text(diagnostics, sources)
    assert rendered.endswith("7 errors, 0 warnings\n")
    assert "1 | total(price)\n  | ^^^^^^^^^^^^\n" in rendered


@pytest.mark.parametrize("path", [PC, BIKE], ids=["pc", "bike"])
def test_every_value_domains_lists_can_be_selected(path: Any) -> None:
    # what a configurator page offers is what `domains` lists: each value, selected on
    # its own, is a request the engine takes and that has an assembly
    model = atoconf.load(path)
    for key, values in model.configure({}).domains().domains.items():
        for value in values:
            found = model.configure({key: value}).domains()
            assert found.satisfiable, (key, value)
            assert found.domains[key] == [value], (key, value)


def test_the_quantity_0_of_an_optional_component_leaves_it_out() -> None:
    model = atoconf.load(PC)
    found = model.configure({"data.qty": 0}).domains()
    assert found.domains["data"] == [None]
    both = model.configure({"data.qty": 0, "data": "SSD-NV-1TB-SN770"}).explain()
    assert not both.satisfiable


@given(
    st.integers(1, 7),
    st.lists(st.frozensets(st.integers(0, 6), min_size=1, max_size=3), max_size=4),
    st.sets(st.integers(0, 6)),
)
def test_defaults_are_taken_as_one_at_a_time_would_take_them(
    options: int, conflicts: list[frozenset[int]], selected: set[int]
) -> None:
    """each_default tries runs of defaults together and halves a run that fails: the
    result must be the walk one default at a time (a default kept when it agrees
    with the request and the defaults kept before it)."""
    text = 'product p "p"\ntype T {\n  n: int\n}\nparts T {\n  "A" "a": n=1\n}\ncomponent c: T\n'
    text += "".join(f"option o{i}: bool default true\n" for i in range(options))
    model = load_model(text, "defaults.ato")

    def agrees(trial: dict[str, Value]) -> bool:  # monotone: fewer values, fewer conflicts
        on = {int(name[1:]) for name, value in trial.items() if value is True}
        return not any(conflict <= on for conflict in conflicts)

    select: dict[str, Value] = {f"o{i}": False for i in selected if i < options}
    expected = dict(select)
    for i in range(options):
        name = f"o{i}"
        if name not in expected and agrees({**expected, name: True}):
            expected[name] = True
    calls: list[None] = []
    found = each_default(model, select, lambda t: calls.append(None) or agrees(t))
    assert found == expected
    if agrees({**select, **{f"o{i}": True for i in range(options)}}):
        assert len(calls) <= 1  # every default agrees: one search
