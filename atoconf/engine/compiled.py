"""The compiled model: everything the engine derives from one model, made once.

A `Model` is immutable, so what the engine computes from it (the solver's
variables and tables, value classes, whole-space decision graphs, decimal
places, cost weights) can be kept as long as the model lives. `CompiledModel`
is that store, one per model object, attached to the model and released with
it. Each entry is built once, under its own lock: two threads that ask for the
same cold entry wait for one build; threads asking for different entries do
not wait for each other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from atoconf.language.model import Model

Entry = TypeVar("Entry")

# held only while a model's store is looked up or attached (microseconds)
_ATTACHING = threading.Lock()


class CompiledModel:
    """One model's compiled caches, keyed by what each one is."""

    __slots__ = ("_entries", "_guard", "_locks", "model")

    def __init__(self, model: Model) -> None:
        self.model = model
        self._entries: dict[Hashable, Any] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    @staticmethod
    def of(model: Model) -> CompiledModel:
        """The store of this model object, made on first use."""
        found = model.engine_slot()
        if isinstance(found, CompiledModel) and found.model is model:
            return found
        with _ATTACHING:
            found = model.engine_slot()
            if not (isinstance(found, CompiledModel) and found.model is model):
                found = CompiledModel(model)
                model.keep_for_engine(found)
            return found

    def get(self, key: Hashable, build: Callable[[], Entry]) -> Entry:
        """The entry under `key`, built by `build` the first time it is asked for."""
        try:
            return cast(Entry, self._entries[key])
        except KeyError:
            pass
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._entries:
                self._entries[key] = build()
            return cast(Entry, self._entries[key])

    def built(self) -> list[Hashable]:
        """The keys of the entries built so far."""
        return list(self._entries)

    def clear(self) -> None:
        """Forget every entry (they are rebuilt when next asked for)."""
        with self._guard:
            self._entries.clear()
            self._locks.clear()
