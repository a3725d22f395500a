"""A brute-force oracle for small models: every assembly, checked one by one.

The solver is clever; this module is not. It walks the whole cartesian product
of a model's choices and keeps the assemblies on which every rule (and every
extra requirement) holds under the reference semantics of `atoconf.language.evaluate`.
It is slow and obviously right, which is what the solver is compared with.

The vocabulary is the solver's (SPEC §2, `domains`):

- each component `c` is a variable `c` whose values are its parts (after
  `where`), plus `None` when it is optional;
- each component whose quantity range has more than one value is also a
  variable `c.qty`: `qty_min..qty_max`, plus 0 when optional. An absent
  component has quantity 0 and a present one a quantity in its range, so
  `c` is `None` exactly when `c.qty` is 0. A component with a fixed quantity
  has no quantity variable (its quantity is `qty_min`, or 0 when absent);
- each option `o` is a variable `o` whose values are the option's values.

An assembly is identified by its key: `tuple(sorted((variable, value)))`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from fractions import Fraction

from atoconf.language.evaluate import Assembly, Choice, evaluate, holds
from atoconf.language.model import Component, Expr, Model, Option, Value

MAX_PRODUCT = 200_000

Key = tuple[tuple[str, Value], ...]


# ---- the vocabulary ------------------------------------------------------------------------


def qty_variable(component: Component) -> str | None:
    """The name of a component's quantity variable, or None for a fixed quantity."""
    if component.qty_min < component.qty_max:
        return f"{component.name}.qty"
    return None


def variables(model: Model) -> dict[str, tuple[Value, ...]]:
    """Every solver variable and its declared domain, in declaration order."""
    out: dict[str, tuple[Value, ...]] = {}
    for comp in model.components.values():
        out[comp.name] = (*comp.parts, *((None,) if comp.optional else ()))
        qty = qty_variable(comp)
        if qty is not None:
            out[qty] = (*((0,) if comp.optional else ()), *range(comp.qty_min, comp.qty_max + 1))
    for option in model.options.values():
        out[option.name] = option.values
    return out


def component_choices(component: Component) -> list[Choice]:
    """Every (SKU or None, quantity) a component can take."""
    choices: list[Choice] = [
        (sku, qty)
        for sku in component.parts
        for qty in range(component.qty_min, component.qty_max + 1)
    ]
    if component.optional:
        choices.append((None, 0))
    return choices


def same_value(a: object, b: object) -> bool:
    """Equal and of the same kind: True is not 1, and 1 is not "1"."""
    return type(a) is type(b) and a == b


# ---- keys ------------------------------------------------------------------------------------


def _check_option(option: Option, value: object) -> Value:
    if not any(same_value(value, allowed) for allowed in option.values):
        raise ValueError(f"option {option.name!r} cannot be {value!r}")
    return value  # type: ignore[return-value]


def _check_choice(component: Component, sku: object, qty: object) -> Choice:
    if type(qty) is not int:
        raise ValueError(f"component {component.name!r}: quantity {qty!r} is not an int")
    if sku is None:
        if not component.optional:
            raise ValueError(f"component {component.name!r} is not optional")
        if qty != 0:
            raise ValueError(f"absent component {component.name!r} has quantity {qty}")
        return (None, 0)
    if not isinstance(sku, str) or sku not in component.parts:
        raise ValueError(f"component {component.name!r} cannot take part {sku!r}")
    if not component.qty_min <= qty <= component.qty_max:
        raise ValueError(
            f"component {component.name!r}: quantity {qty} is outside "
            f"{component.qty_min}..{component.qty_max}"
        )
    return (sku, qty)


def _key(model: Model, components: Mapping[str, Choice], options: Mapping[str, Value]) -> Key:
    items: list[tuple[str, Value]] = []
    for comp in model.components.values():
        sku, qty = components[comp.name]
        items.append((comp.name, sku))
        name = qty_variable(comp)
        if name is not None:
            items.append((name, qty))
    items.extend((name, options[name]) for name in model.options)
    return tuple(sorted(items, key=lambda item: item[0]))


def assembly_key(
    model: Model,
    components: Mapping[str, tuple[str | None, int]],
    options: Mapping[str, Value],
) -> Key:
    """The canonical key of one assembly; ValueError when it is not an assembly of the model."""
    if set(components) != set(model.components):
        raise ValueError(f"components {sorted(components)} != {sorted(model.components)}")
    if set(options) != set(model.options):
        raise ValueError(f"options {sorted(options)} != {sorted(model.options)}")
    checked = {
        name: _check_choice(comp, *components[name]) for name, comp in model.components.items()
    }
    values = {name: _check_option(opt, options[name]) for name, opt in model.options.items()}
    return _key(model, checked, values)


def key_from_json(model: Model, assembly_json: Mapping[str, object]) -> Key:
    """The key of one assembly in the SPEC §2 solve shape:
    `{"components": {"cpu": {"sku": "...", "qty": 1}, "gpu": null}, "options": {...}}`.

    Strict about what a solver must get right (every component and option, SKUs,
    quantities, the JSON kinds of option values); other fields are ignored."""
    components = assembly_json.get("components")
    options = assembly_json.get("options")
    if not isinstance(components, Mapping) or not isinstance(options, Mapping):
        raise ValueError(f"not an assembly: {assembly_json!r}")
    choices: dict[str, tuple[str | None, int]] = {}
    for name, choice in components.items():
        if choice is None:
            choices[name] = (None, 0)
        elif isinstance(choice, Mapping) and "sku" in choice and "qty" in choice:
            choices[name] = (choice["sku"], choice["qty"])
        else:
            raise ValueError(f"component {name!r}: not {{'sku': ..., 'qty': ...}}: {choice!r}")
    return assembly_key(model, choices, dict(options))


def assembly_of(model: Model, key: Key) -> Assembly:
    """The assembly a key stands for."""
    values = dict(key)
    components: dict[str, Choice] = {}
    for comp in model.components.values():
        sku = values[comp.name]
        assert sku is None or isinstance(sku, str)
        name = qty_variable(comp)
        if sku is None:
            components[comp.name] = (None, 0)
        elif name is None:
            components[comp.name] = (sku, comp.qty_min)
        else:
            qty = values[name]
            assert isinstance(qty, int)
            components[comp.name] = (sku, qty)
    return Assembly(components, {name: values[name] for name in model.options})


# ---- enumeration -----------------------------------------------------------------------------


def _restricted_choices(
    model: Model, select: Mapping[str, object]
) -> tuple[list[list[Choice]], list[list[Value]]]:
    """Each component's and option's choices that agree with `select`.

    Keeping only the choices that agree with a selection is the same as
    filtering the full product afterwards; it only makes the product smaller.
    `c.qty` may also be selected for a component with a fixed quantity."""
    known = set(variables(model)) | {f"{name}.qty" for name in model.components}
    unknown = sorted(set(select) - known)
    if unknown:
        raise ValueError(f"select names no variable: {unknown}")
    per_component: list[list[Choice]] = []
    for comp in model.components.values():
        choices = component_choices(comp)
        if comp.name in select:
            choices = [c for c in choices if same_value(c[0], select[comp.name])]
        qty_name = f"{comp.name}.qty"
        if qty_name in select:
            choices = [c for c in choices if same_value(c[1], select[qty_name])]
        per_component.append(choices)
    per_option: list[list[Value]] = []
    for option in model.options.values():
        values = list(option.values)
        if option.name in select:
            values = [v for v in values if same_value(v, select[option.name])]
        per_option.append(values)
    return per_component, per_option


def product_size(model: Model, select: Mapping[str, object] | None = None) -> int:
    """How many assemblies the oracle walks for this selection."""
    per_component, per_option = _restricted_choices(model, select or {})
    return math.prod(len(c) for c in per_component) * math.prod(len(v) for v in per_option)


def valid_assemblies(
    model: Model,
    select: Mapping[str, object] | None = None,
    require: Sequence[Expr] = (),
    rules: Collection[str] | None = None,
) -> list[Key]:
    """The keys of every valid assembly that agrees with `select` and satisfies
    every `require` and every rule (or only the rules named in `rules`), in the
    order of the product (components then options, in declaration order; parts in
    declaration order, then quantities, then none).

    A rule that divides by zero does not hold (`evaluate.holds`). ValueError when
    the product has more than MAX_PRODUCT assemblies or `select` names no variable."""
    per_component, per_option = _restricted_choices(model, select or {})
    size = math.prod(len(c) for c in per_component) * math.prod(len(v) for v in per_option)
    if size > MAX_PRODUCT:
        raise ValueError(f"{size} assemblies is too many for brute force (> {MAX_PRODUCT})")
    names = list(model.components)
    option_names = list(model.options)
    constraints = [
        rule.expr for rule in model.rules.values() if rules is None or rule.name in rules
    ] + list(require)
    keys: list[Key] = []
    for combo in itertools.product(*per_component, *per_option):
        components = dict(zip(names, combo[: len(names)], strict=True))
        options = dict(zip(option_names, combo[len(names) :], strict=True))
        assembly = Assembly(components, options)  # type: ignore[arg-type]
        if all(holds(model, expr, assembly) for expr in constraints):
            keys.append(_key(model, components, options))  # type: ignore[arg-type]
    return keys


def count(
    model: Model, select: Mapping[str, object] | None = None, require: Sequence[Expr] = ()
) -> int:
    return len(valid_assemblies(model, select, require))


def domains_of(model: Model, keys: Iterable[Key]) -> dict[str, set[Value]]:
    """For each variable, the values some of the keys give it."""
    out: dict[str, set[Value]] = {name: set() for name in variables(model)}
    for key in keys:
        for name, value in key:
            out[name].add(value)
    return out


def domains(
    model: Model, select: Mapping[str, object] | None = None, require: Sequence[Expr] = ()
) -> dict[str, set[Value]]:
    """For each variable, the values that appear in some valid assembly
    (every set is empty when nothing is valid)."""
    return domains_of(model, valid_assemblies(model, select, require))


# ---- objectives ------------------------------------------------------------------------------


def objective_values(model: Model, expr: Expr, keys: Iterable[Key]) -> dict[Key, Fraction]:
    """The value of a numeric expression on each assembly. An assembly on which
    the expression divides by zero has no value and is left out."""
    out: dict[Key, Fraction] = {}
    for key in keys:
        try:
            value = evaluate(model, expr, assembly_of(model, key))
        except ZeroDivisionError:
            continue
        assert isinstance(value, Fraction), f"not a number: {value!r}"
        out[key] = value
    return out
