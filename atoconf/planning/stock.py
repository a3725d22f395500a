"""Stock: on hand and reserved per SKU and location, supply per SKU; read from
CSV, or kept in a database (SQLite or any server SQLAlchemy reaches) that also holds the
reservations planners make."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from atoconf.language import csvparts
from atoconf.language.context import did_you_mean
from atoconf.language.diagnostics import Diagnostic, Related, error, warning
from atoconf.language.model import Model
from atoconf.language.source import SourceFile, Span, read_source

STOCK_COLUMNS = ("sku", "location", "on_hand", "reserved")
SUPPLY_COLUMNS = ("sku", "lead_days", "unit_cost")
SCHEMA_VERSION = 2  # 2: the plan of each reserved order is stored


@dataclass(frozen=True)
class Supply:
    lead_days: int
    unit_cost: Decimal
    span: Span | None = None


@dataclass(frozen=True)
class Shelf:
    """One (SKU, location) row: units on hand and units already promised."""

    sku: str
    location: str
    on_hand: int
    reserved: int
    span: Span | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class Pick:
    sku: str
    location: str
    qty: int


class StockError(Exception):
    """Stock input that cannot be used: `diagnostics` names every bad file, row and cell."""

    def __init__(self, diagnostics: list[Diagnostic], sources: Mapping[str, SourceFile]) -> None:
        self.diagnostics = diagnostics
        self.sources = dict(sources)
        first = next((d for d in diagnostics if d.is_error), None)
        where = f"{first.span}: " if first and first.span else ""
        super().__init__(f"{where}{first.message}" if first else "bad stock")


@dataclass
class Stock:
    """A snapshot of the shelves and the supply data; `source` says where it came from."""

    shelves: dict[tuple[str, str], Shelf]
    supply: dict[str, Supply]
    source: str = "<stock>"
    sources: dict[str, SourceFile] = field(default_factory=dict)
    _by_sku: dict[str, list[Shelf]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for key in sorted(self.shelves):
            self._by_sku.setdefault(key[0], []).append(self.shelves[key])

    def available(self, sku: str) -> int:
        """Units of `sku` on hand and not reserved, over every location."""
        return sum(s.available for s in self._by_sku.get(sku, ()))

    def locations(self, sku: str) -> list[Shelf]:
        """The shelves holding `sku`, by location name."""
        return list(self._by_sku.get(sku, ()))

    def skus(self) -> list[str]:
        """Every SKU on a shelf, sorted."""
        return sorted(self._by_sku)

    def priced(self, sku: str) -> bool:
        """Whether the supply data gives the SKU's cost and lead time."""
        return sku in self.supply

    def unit_cost(self, sku: str) -> Decimal:
        """The supplier's cost of one unit (0 when unpriced: see `priced`)."""
        found = self.supply.get(sku)
        return found.unit_cost if found else Decimal(0)

    def lead_days(self, sku: str) -> int | None:
        """Days to get more of a SKU (None: it has no supply data)."""
        found = self.supply.get(sku)
        return found.lead_days if found else None

    @classmethod
    def from_csv(cls, stock: str | Path, supply: str | Path | None = None) -> Stock:
        """Read `stock.csv` and, when given (or beside it as supply.csv), `supply.csv`;
        raises StockError naming every bad row."""
        stock_path = Path(stock)
        supply_path = Path(supply) if supply is not None else stock_path.with_name("supply.csv")
        diagnostics: list[Diagnostic] = []
        sources: dict[str, SourceFile] = {}
        shelves = read_stock_csv(stock_path, diagnostics, sources)
        supplies: dict[str, Supply] = {}
        if supply is not None or supply_path.exists():
            supplies = read_supply_csv(supply_path, diagnostics, sources)
        if any(d.is_error for d in diagnostics):
            raise StockError(diagnostics, sources)
        return cls(shelves, supplies, str(stock_path), sources)

    def minus(self, picks: Iterable[Pick]) -> Stock:
        """This stock after `picks` were taken (reserved)."""
        shelves = dict(self.shelves)
        for pick in picks:
            shelf = shelves[(pick.sku, pick.location)]
            shelves[(pick.sku, pick.location)] = Shelf(
                shelf.sku, shelf.location, shelf.on_hand, shelf.reserved + pick.qty, shelf.span
            )
        return Stock(shelves, self.supply, self.source, self.sources)

    def plus(self, picks: Iterable[Pick]) -> Stock:
        """This stock after `picks` were released."""
        return self.minus(Pick(p.sku, p.location, -p.qty) for p in picks)


def unknown_skus(stock: Stock, model: Model) -> list[Diagnostic]:
    """A warning for each SKU the stock or supply lists that the model does not know."""
    rows: list[tuple[str, Span | None]] = [(s.sku, s.span) for s in stock.shelves.values()]
    rows += [(sku, s.span) for sku, s in stock.supply.items()]
    return not_parts(rows, model, stock.source, "it is ignored", "or remove the row")


def not_parts(
    rows: Iterable[tuple[str, Span | None]], model: Model, source: str, outcome: str, fix: str
) -> list[Diagnostic]:
    """A warning (W0801) at the first row of each SKU that is not a part of the model;
    `outcome` says what happens to it, `fix` what to do besides checking the number."""
    found: list[Diagnostic] = []
    seen: set[str] = set()
    for sku, span in rows:
        if sku in model.parts or sku in seen:
            continue
        seen.add(sku)
        found.append(
            warning(
                "W0801",
                f"SKU '{sku}' in {span.file if span else source} is not a part of the "
                f"model; {outcome}",
                span,
                hint=did_you_mean(sku, model.parts)
                or f"check the part number, {fix}".removesuffix(", "),
            )
        )
    return found


def unpriced_skus(stock: Stock, skus: Iterable[str]) -> list[Diagnostic]:
    """A warning for each of `skus` without supply data, at its first stock row (else
    at the supply file, else naming where the stock came from)."""
    supply_file = next((s.span.file for s in stock.supply.values() if s.span), None)
    found: list[Diagnostic] = []
    for sku in sorted(set(skus)):
        if stock.priced(sku):
            continue
        shelves = stock.locations(sku)
        span = shelves[0].span if shelves else None
        if span is None and supply_file is not None:
            span = Span(file=supply_file, line=1, col=1, end_line=1, end_col=2)
        where = f" in {stock.source}" if span is None else ""
        found.append(
            warning(
                "W0802",
                f"SKU '{sku}' has no supply data{where}: its cost and lead time are not "
                "known; plans rank assemblies with it after those whose cost is known",
                span,
                hint=f"add a supply row for it: {sku},LEAD_DAYS,UNIT_COST",
            )
        )
    return found


def stock_report(stock: Stock, model: Model) -> list[Diagnostic]:
    """What a stock and its supply data lack or hold too much against a model: SKUs
    the model does not know, its parts without supply data, and parts neither on a
    shelf nor in the supply data (no plan can get them)."""
    found = unknown_skus(stock, model)
    stocked = set(stock.skus())
    orphans = [sku for sku in model.parts if sku not in stocked and not stock.priced(sku)]
    found += unpriced_skus(stock, [sku for sku in model.parts if sku in stocked])
    for sku in sorted(orphans):
        found.append(
            warning(
                "W0803",
                f"part '{sku}' is on no shelf and has no supply data in {stock.source}: "
                "a plan that needs it can neither pick it nor say when it arrives",
                model.parts[sku].span,
                hint=f"add it to the stock, or a supply row: {sku},LEAD_DAYS,UNIT_COST",
            )
        )
    return found


# ---- CSV -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    source: SourceFile
    columns: dict[str, int]
    width: int
    rows: list[csvparts.Row]


def _read_table(
    path: Path,
    expected: Sequence[str],
    required: Sequence[str],
    diagnostics: list[Diagnostic],
    sources: dict[str, SourceFile],
) -> _Table | None:
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.csv"))
        shown = f"; it holds {', '.join(found)}" if found else ""
        diagnostics.append(
            error(
                "E0001",
                f"cannot read {path}: it is a folder, not a CSV file{shown}",
                None,
                hint=f"give the CSV file itself (columns {', '.join(expected)}), such as "
                f"{path / ('stock.csv' if 'on_hand' in expected else 'supply.csv')}",
            )
        )
        return None
    source = read_source(path)
    if isinstance(source, str):
        diagnostics.append(error("E0001", f"cannot read {path}: {source}", None))
        return None
    sources[source.name] = source
    rows, problem, offset = csvparts.read_rows(source.text)
    if problem is not None:
        diagnostics.append(error("E0802", problem, source.span(offset, offset + 1)))
        return None
    if not rows:
        diagnostics.append(
            error(
                "E0802",
                "the file is empty",
                None if not source.text else source.whole_line(1),
                hint=f"start it with the header `{','.join(expected)}`",
            )
        )
        if not source.text:
            diagnostics[-1] = diagnostics[-1].model_copy(
                update={"message": f"{source.name} is empty"}
            )
        return None
    header = rows[0]
    columns: dict[str, int] = {}
    ok = True
    for i, cell in enumerate(header.cells):
        name = cell.text.strip()
        span = csvparts.cell_span(source, cell)
        if name not in expected:
            diagnostics.append(
                error(
                    "E0803",
                    f"unknown column '{name}'",
                    span,
                    hint=f"the columns are {', '.join(expected)}",
                )
            )
            ok = False
        elif name in columns:
            diagnostics.append(error("E0803", f"column '{name}' appears twice", span))
            ok = False
        else:
            columns[name] = i
    missing = [c for c in required if c not in columns]
    if missing:
        diagnostics.append(
            error(
                "E0803",
                f"the header lacks the column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}",
                source.span(header.start, header.start + len(source.line_text(1))),
                hint=f"the header is `{','.join(expected)}`",
            )
        )
        ok = False
    return _Table(source, columns, len(header.cells), rows[1:]) if ok else None


def _cells(
    table: _Table, row: csvparts.Row, diagnostics: list[Diagnostic]
) -> dict[str, tuple[str, Span]] | None:
    source = table.source
    if len(row.cells) != table.width:
        line, _ = source.position(row.start)
        names = sorted(table.columns, key=table.columns.__getitem__)
        if len(row.cells) < table.width:
            missing = names[len(row.cells) :]
            hint = f"add the missing {'cell' if len(missing) == 1 else 'cells'}: " + ", ".join(
                missing
            )
        else:
            hint = "give one cell per column; quote a cell that holds a comma"
        diagnostics.append(
            error(
                "E0804",
                f"the row has {len(row.cells)} cells but the header has {table.width}",
                source.whole_line(line),
                hint=hint,
            )
        )
        return None
    return {
        name: (row.cells[i].text, csvparts.cell_span(source, row.cells[i]))
        for name, i in table.columns.items()
    }


_INT = re.compile(r"[0-9]+")


def _count(
    text: str, span: Span, what: str, diagnostics: list[Diagnostic], default: int | None = None
) -> int | None:
    if not text and default is not None:
        return default
    if not _INT.fullmatch(text):
        negative = text.startswith("-") and _INT.fullmatch(text[1:]) is not None
        diagnostics.append(
            error(
                "E0805",
                f"{what} must be a whole number of 0 or more, not '{text}'"
                if text
                else f"{what} is empty",
                span,
                hint="stock cannot be negative; write 0 for none"
                if negative
                else "write a whole number such as 3",
            )
        )
        return None
    return int(text)


def read_stock_csv(
    path: Path, diagnostics: list[Diagnostic], sources: dict[str, SourceFile]
) -> dict[tuple[str, str], Shelf]:
    """The rows of a stock CSV (`sku,location,on_hand,reserved`); errors are appended."""
    table = _read_table(path, STOCK_COLUMNS, STOCK_COLUMNS[:3], diagnostics, sources)
    if table is None:
        return {}
    shelves: dict[tuple[str, str], Shelf] = {}
    for row in table.rows:
        cells = _cells(table, row, diagnostics)
        if cells is None:
            continue
        line_span = table.source.whole_line(table.source.position(row.start)[0])
        sku, sku_span = cells["sku"]
        location = cells["location"][0]
        bad = False
        for name, (text, span) in (("sku", (sku, sku_span)), ("location", cells["location"])):
            if not text:
                diagnostics.append(error("E0804", f"the {name} cell is empty", span))
                bad = True
        on_hand = _count(*cells["on_hand"], "on_hand", diagnostics)
        reserved_cell = cells.get("reserved", ("", line_span))
        reserved = _count(*reserved_cell, "reserved", diagnostics, default=0)
        if bad or on_hand is None or reserved is None:
            continue
        if reserved > on_hand:
            diagnostics.append(
                error(
                    "E0806",
                    f"{reserved} reserved but only {on_hand} on hand of '{sku}' at '{location}'",
                    reserved_cell[1],
                    hint="reserved counts units on hand that are promised; it cannot exceed "
                    "on_hand",
                )
            )
            continue
        key = (sku, location)
        if key in shelves:
            diagnostics.append(
                _listed_twice(
                    f"'{sku}' at '{location}'",
                    line_span,
                    shelves[key].span,
                    "give each SKU and location one row (add the quantities up)",
                )
            )
            continue
        shelves[key] = Shelf(sku, location, on_hand, reserved, line_span)
    return shelves


def read_supply_csv(
    path: Path, diagnostics: list[Diagnostic], sources: dict[str, SourceFile]
) -> dict[str, Supply]:
    """The rows of a supply CSV (`sku,lead_days,unit_cost`); errors are appended."""
    table = _read_table(path, SUPPLY_COLUMNS, SUPPLY_COLUMNS, diagnostics, sources)
    if table is None:
        return {}
    supplies: dict[str, Supply] = {}
    for row in table.rows:
        cells = _cells(table, row, diagnostics)
        if cells is None:
            continue
        line_span = table.source.whole_line(table.source.position(row.start)[0])
        sku, sku_span = cells["sku"]
        if not sku:
            diagnostics.append(error("E0804", "the sku cell is empty", sku_span))
            continue
        lead_days = _count(*cells["lead_days"], "lead_days", diagnostics)
        cost_text, cost_span = cells["unit_cost"]
        cost = parse_cost(cost_text)
        if cost is None:
            diagnostics.append(
                error(
                    "E0805",
                    f"unit_cost must be a decimal of 0 or more, not '{cost_text}'",
                    cost_span,
                    hint="write the cost without a currency sign, such as 249.90",
                )
            )
        if lead_days is None or cost is None:
            continue
        if sku in supplies:
            diagnostics.append(
                _listed_twice(
                    f"'{sku}'", line_span, supplies[sku].span, "give each SKU one supply row"
                )
            )
            continue
        supplies[sku] = Supply(lead_days, cost, line_span)
    return supplies


RECEIPT_COLUMNS = ("sku", "location", "qty")


@dataclass(frozen=True)
class Receipts:
    """Goods booked in, read from a CSV: per shelf the units, per SKU its first row."""

    picks: list[Pick]
    rows: dict[str, Span]
    sources: dict[str, SourceFile]
    places: dict[str, Span] = field(default_factory=dict)  # per location, its first row

    def unknown(self, model: Model) -> list[Diagnostic]:
        """A warning for each SKU that is not a part of the model, at its first row."""
        rows = sorted(self.rows.items())
        return not_parts(rows, model, "receipts", "it is booked in all the same", "")


def read_receipts_csv(path: str | Path) -> Receipts:
    """Goods booked in (`sku,location,qty`, each qty 1 or more); raises StockError
    naming every bad row. A SKU and location listed twice add up."""
    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    table = _read_table(Path(path), RECEIPT_COLUMNS, RECEIPT_COLUMNS, diagnostics, sources)
    if table is None:  # an error is said
        raise StockError(diagnostics, sources)
    received: dict[tuple[str, str], int] = {}
    rows: dict[str, Span] = {}
    places: dict[str, Span] = {}
    for row in table.rows:
        cells = _cells(table, row, diagnostics)
        if cells is None:
            continue
        bad = False
        for name in ("sku", "location"):
            if not cells[name][0]:
                diagnostics.append(error("E0804", f"the {name} cell is empty", cells[name][1]))
                bad = True
        qty = _count(*cells["qty"], "qty", diagnostics)
        if qty == 0:
            diagnostics.append(
                error("E0805", "qty must be 1 or more", cells["qty"][1], hint="leave the row out")
            )
            continue
        if bad or qty is None:
            continue
        key = (cells["sku"][0], cells["location"][0])
        received[key] = received.get(key, 0) + qty
        line = table.source.whole_line(table.source.position(row.start)[0])
        rows.setdefault(key[0], line)
        places.setdefault(key[1], line)
    if any(d.is_error for d in diagnostics):
        raise StockError(diagnostics, sources)
    picks = [Pick(sku, location, qty) for (sku, location), qty in received.items()]
    return Receipts(picks, rows, sources, places)


def _listed_twice(what: str, span: Span, first: Span | None, hint: str) -> Diagnostic:
    related = [Related(message="first listed here", span=first)] if first else []
    return error("E0807", f"{what} is listed twice", span, hint=hint, related=related)


def parse_cost(text: str) -> Decimal | None:
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None


# ---- databases -------------------------------------------------------------------------


class ReservationError(Exception):
    """A reservation that cannot be made; the database is left as it was."""


class AlreadyReserved(ReservationError):
    """The order already holds a reservation (release it, or replace it)."""


class Conflict(ReservationError):
    """Another planner took units this reservation counted on: re-plan and retry."""


def is_database(spec: str) -> bool:
    """A stock argument that names a database (a URL, or an SQLite file) and not a CSV."""
    return "://" in spec or Path(spec).suffix.lower() in (".db", ".sqlite", ".sqlite3")


def database_url(spec: str) -> str:
    return spec if "://" in spec else f"sqlite:///{spec}"


class StockDatabase:
    """Stock, supply and reservations in a database, through SQLAlchemy Core: the same
    statements on SQLite and PostgreSQL. Every reservation is one transaction."""

    def __init__(self, spec: str) -> None:
        import sqlalchemy as sa

        self.spec = spec
        self.url = database_url(spec)
        self._sa = sa
        try:
            self.engine = sa.create_engine(self.url, future=True)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise _unusable(
                f"cannot open the stock database '{spec}': {exc}",
                "give an SQLite file (stock.db) or a URL such as "
                "postgresql+psycopg://user@host/db (pip install 'psycopg[binary]')",
            ) from None
        self.sqlite = self.engine.dialect.name == "sqlite"
        if self.sqlite:
            _sqlite_locking(self.engine)
        meta = sa.MetaData()
        self.meta_table = sa.Table(
            "atoconf_meta",
            meta,
            sa.Column("key", sa.String(64), primary_key=True),
            sa.Column("value", sa.String(200), nullable=False),
        )
        self.stock = sa.Table(
            "atoconf_stock",
            meta,
            sa.Column("sku", sa.String(200), primary_key=True),
            sa.Column("location", sa.String(200), primary_key=True),
            sa.Column("on_hand", sa.Integer, nullable=False),
            # held: units reserved outside atoconf (the CSV's `reserved`); reserved: held
            # plus every atoconf reservation, kept in step so that one conditional
            # UPDATE can claim units atomically
            sa.Column("held", sa.Integer, nullable=False),
            sa.Column("reserved", sa.Integer, nullable=False),
            sa.CheckConstraint("held >= 0 AND reserved >= held AND reserved <= on_hand"),
        )
        self.supply = sa.Table(
            "atoconf_supply",
            meta,
            sa.Column("sku", sa.String(200), primary_key=True),
            sa.Column("lead_days", sa.Integer, nullable=False),
            # exact decimal text: SQLite has no exact decimal type
            sa.Column("unit_cost", sa.String(40), nullable=False),
        )
        self.reservations = sa.Table(
            "atoconf_reservations",
            meta,
            sa.Column("order_id", sa.String(200), primary_key=True),
            sa.Column("sku", sa.String(200), primary_key=True),
            sa.Column("location", sa.String(200), primary_key=True),
            sa.Column("qty", sa.Integer, nullable=False),
            sa.Column("created", sa.String(40), nullable=False),
        )
        # the plan an order was reserved by (its JSON), so that a batch run again can
        # keep it as it is (--skip-reserved): in the schedule and on the purchase list
        self.plan_table = sa.Table(
            "atoconf_plans",
            meta,
            sa.Column("order_id", sa.String(200), primary_key=True),
            sa.Column("plan", sa.Text, nullable=False),
        )
        self.metadata = meta

    # -- schema ----------------------------------------------------------------

    def init(self) -> int:
        """Create the schema, or migrate an older one; returns the schema version."""
        sa = self._sa
        if self.sqlite:  # readers never wait for the writer; kept in the file
            raw = self.engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA journal_mode = WAL")  # type: ignore[union-attr]
            finally:
                raw.close()
        with self._connection() as conn:
            self.metadata.create_all(conn)
            row = conn.execute(
                sa.select(self.meta_table.c.value).where(self.meta_table.c.key == "schema")
            ).first()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise _unusable(*_newer(self.spec, version))
            if version == 0:
                conn.execute(
                    sa.insert(self.meta_table).values(key="schema", value=str(SCHEMA_VERSION))
                )
            elif version < SCHEMA_VERSION:
                # 1 -> 2: the plans' table (create_all made it); orders reserved before
                # keep their units without a stored plan
                conn.execute(
                    sa.update(self.meta_table)
                    .where(self.meta_table.c.key == "schema")
                    .values(value=str(SCHEMA_VERSION))
                )
        return SCHEMA_VERSION

    def check_schema(self) -> None:
        """Raise StockError unless the database holds atoconf's current schema."""
        sa = self._sa
        path = self.engine.url.database if self.sqlite else None
        if path and path != ":memory:" and not Path(path).exists():
            # connecting would create an empty file
            raise _unusable(
                f"there is no stock database '{self.spec}'",
                f"create it: atoconf stock init {self.spec}, then "
                f"atoconf stock import {self.spec} stock.csv supply.csv",
            )
        try:
            with self._connection() as conn:
                row = conn.execute(
                    sa.select(self.meta_table.c.value).where(self.meta_table.c.key == "schema")
                ).first()
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
            if not _missing_table(exc):
                raise
            row = None
        if row is None:
            raise _unusable(
                f"'{self.spec}' holds no atoconf stock",
                f"create it: atoconf stock init {self.spec}, then "
                f"atoconf stock import {self.spec} stock.csv supply.csv",
            )
        if int(row[0]) > SCHEMA_VERSION:
            raise _unusable(*_newer(self.spec, int(row[0])))
        if int(row[0]) < SCHEMA_VERSION:
            raise _unusable(
                f"'{self.spec}' has an older stock schema ({row[0]})",
                f"migrate it: atoconf stock init {self.spec}",
            )

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """One transaction; a database that cannot be reached becomes StockError (a
        missing table and contention between planners are left to the caller)."""
        sa = self._sa
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            message = str(exc.orig) if exc.orig is not None else str(exc)
            if _missing_table(exc) or _is_contention(exc):
                raise
            raise _unusable(
                f"cannot use the stock database '{self.spec}': {message.strip().splitlines()[0]}",
                "check the path or URL, and that the server is running",
            ) from None

    # -- import and read ----------------------------------------------------------

    def import_csv(self, stock: Stock, replace: bool = False) -> tuple[int, int]:
        """Load a stock snapshot (from CSV): each row's on_hand and external holds are
        set, atoconf's own reservations kept on top; the SKUs' supply rows replaced.
        With `replace` (a full stocktake), shelves the file does not list drop to
        zero, refused where orders in the database hold units there. One transaction:
        an error leaves the database as it was. Returns (shelves, supplies)."""
        sa = self._sa
        self.check_schema()
        with self._connection() as conn:
            ours = self._reserved_by_shelf(conn)
            problems: list[Diagnostic] = []
            emptied: list[tuple[str, str]] = []
            if replace:
                shelves = conn.execute(sa.select(self.stock.c.sku, self.stock.c.location))
                emptied = sorted(k for k in map(tuple, shelves) if k not in stock.shelves)
            for sku, location in emptied:
                if ours.get((sku, location), 0):
                    holders = self._holders(conn, sku, location)
                    problems.append(
                        error(
                            "E0806",
                            f"'{sku}' at '{location}' is not in the stocktake, but orders in "
                            f"the database hold {ours[(sku, location)]} of it there "
                            f"({', '.join(holders)})",
                            None,
                            hint="count it in the file, or release or consume those orders "
                            f"first (atoconf stock release {self.spec} ORDER)",
                        )
                    )
            for key, shelf in sorted(stock.shelves.items()):
                total = shelf.reserved + ours.get(key, 0)
                if total > shelf.on_hand:
                    problems.append(
                        error(
                            "E0806",
                            f"'{shelf.sku}' at '{shelf.location}': {shelf.on_hand} on hand "
                            f"cannot cover {shelf.reserved} held plus {ours[key]} reserved by "
                            "orders in the database",
                            shelf.span,
                            hint="release those orders first "
                            f"(atoconf stock release {self.spec} ORDER)",
                        )
                    )
            if problems:
                raise StockError(problems, stock.sources)
            s = self.stock.c
            for sku, location in emptied:
                conn.execute(
                    sa.update(self.stock)
                    .where(s.sku == sku, s.location == location)
                    .values(on_hand=0, held=0, reserved=0)
                )
            for key, shelf in sorted(stock.shelves.items()):
                values = {
                    "on_hand": shelf.on_hand,
                    "held": shelf.reserved,
                    "reserved": shelf.reserved + ours.get(key, 0),
                }
                done = conn.execute(
                    sa.update(self.stock)
                    .where(self.stock.c.sku == shelf.sku, self.stock.c.location == shelf.location)
                    .values(**values)
                )
                if done.rowcount == 0:
                    conn.execute(
                        sa.insert(self.stock).values(
                            sku=shelf.sku, location=shelf.location, **values
                        )
                    )
            for sku, supply in sorted(stock.supply.items()):
                conn.execute(sa.delete(self.supply).where(self.supply.c.sku == sku))
                conn.execute(
                    sa.insert(self.supply).values(
                        sku=sku, lead_days=supply.lead_days, unit_cost=str(supply.unit_cost)
                    )
                )
        return len(stock.shelves), len(stock.supply)

    def _holders(self, conn: Any, sku: str, location: str) -> list[str]:
        r = self.reservations
        rows = conn.execute(
            self._sa.select(r.c.order_id)
            .where(r.c.sku == sku, r.c.location == location)
            .order_by(r.c.order_id)
        )
        return [order_id for (order_id,) in rows]

    def receive(self, receipts: Receipts, parts: Collection[str] = ()) -> int:
        """Book goods in (one transaction): each shelf's on_hand grows by the quantity,
        a shelf not yet known (a known SKU at a known location) is added. A SKU the
        database does not know (nor `parts`) or a location where it has no shelf is
        refused (StockError naming each row), and nothing is booked in. Returns the
        units booked in."""
        sa = self._sa
        s = self.stock.c
        self.check_schema()
        with self._connection() as conn:
            skus = {row[0] for row in conn.execute(sa.select(s.sku).distinct())}
            skus |= {row[0] for row in conn.execute(sa.select(self.supply.c.sku))}
            places = {row[0] for row in conn.execute(sa.select(s.location).distinct())}
            problems = _unknown_receipts(receipts, skus | set(parts), places, self.spec)
            if problems:
                raise StockError(problems, receipts.sources)
            for pick in sorted(receipts.picks, key=lambda p: (p.sku, p.location)):
                done = conn.execute(
                    sa.update(self.stock)
                    .where(s.sku == pick.sku, s.location == pick.location)
                    .values(on_hand=s.on_hand + pick.qty)
                )
                if done.rowcount == 0:
                    conn.execute(
                        sa.insert(self.stock).values(
                            sku=pick.sku,
                            location=pick.location,
                            on_hand=pick.qty,
                            held=0,
                            reserved=0,
                        )
                    )
        return sum(p.qty for p in receipts.picks)

    def _reserved_by_shelf(self, conn: Any) -> dict[tuple[str, str], int]:
        sa = self._sa
        r = self.reservations
        rows = conn.execute(
            sa.select(r.c.sku, r.c.location, sa.func.sum(r.c.qty)).group_by(r.c.sku, r.c.location)
        )
        return {(sku, location): int(qty) for sku, location, qty in rows}

    def snapshot(self) -> Stock:
        """The shelves and supply as they are now."""
        sa = self._sa
        self.check_schema()
        with self._connection() as conn:
            shelves = {
                (sku, location): Shelf(sku, location, on_hand, reserved)
                for sku, location, on_hand, reserved in conn.execute(
                    sa.select(
                        self.stock.c.sku,
                        self.stock.c.location,
                        self.stock.c.on_hand,
                        self.stock.c.reserved,
                    )
                )
            }
            supply = {
                sku: Supply(lead_days, Decimal(cost))
                for sku, lead_days, cost in conn.execute(sa.select(self.supply))
            }
        return Stock(shelves, supply, self.spec)

    def reserved_for(self, order_id: str) -> list[Pick]:
        """The units an order holds."""
        with self._connection() as conn:
            return self._held(conn, order_id)

    def orders(self) -> dict[str, list[Pick]]:
        """Every order holding a reservation, with its picks."""
        sa = self._sa
        r = self.reservations
        found: dict[str, list[Pick]] = {}
        with self._connection() as conn:
            for order_id, sku, location, qty in conn.execute(
                sa.select(r.c.order_id, r.c.sku, r.c.location, r.c.qty).order_by(
                    r.c.order_id, r.c.sku, r.c.location
                )
            ):
                found.setdefault(order_id, []).append(Pick(sku, location, qty))
        return found

    # -- reservations ----------------------------------------------------------------

    def plans(self) -> dict[str, str]:
        """The stored plan (JSON) of every order reserved with one."""
        with self._connection() as conn:
            rows = conn.execute(self._sa.select(self.plan_table.c.order_id, self.plan_table.c.plan))
            return {order_id: plan for order_id, plan in rows}

    def reserve(
        self,
        order_id: str,
        picks: Sequence[Pick],
        replace: bool = False,
        plan: str | None = None,
    ) -> None:
        """Claim `picks` for `order_id` in one transaction, with the plan they are for
        (JSON, kept for a later run): each shelf's units are taken by a conditional
        UPDATE, so two planners never claim the same unit; if any shelf no longer has
        them, nothing is written and Conflict is raised. An order that already holds
        units raises AlreadyReserved unless `replace`."""
        self.reserve_many([(order_id, picks, plan)], replace)

    def reserve_many(
        self, claims: Sequence[tuple[str, Sequence[Pick], str | None]], replace: bool = False
    ) -> None:
        """`reserve` for several orders (order id, picks, plan) in one transaction: all
        of them are written, or none (Conflict or AlreadyReserved as `reserve` raises
        them, for the first order that failed)."""
        sa = self._sa
        r = self.reservations
        s = self.stock.c
        order_id = claims[0][0] if claims else ""
        try:
            with self._connection() as conn:
                now = datetime.now(UTC).isoformat(timespec="seconds")
                for order_id, _, _ in claims:
                    held = conn.execute(
                        sa.select(r.c.sku, r.c.location, r.c.qty).where(r.c.order_id == order_id)
                    ).all()
                    if held and not replace:
                        raise AlreadyReserved(order_id)
                    if held:
                        self._give_back(conn, order_id, [Pick(*row) for row in held])
                # each shelf once, in a fixed order of rows: two transactions never wait
                # on each other in a cycle
                taking: dict[tuple[str, str], int] = {}
                for _, picks, _ in claims:
                    for pick in picks:
                        if pick.qty > 0:
                            shelf = (pick.sku, pick.location)
                            taking[shelf] = taking.get(shelf, 0) + pick.qty
                for (sku, location), qty in sorted(taking.items()):
                    done = conn.execute(
                        sa.update(self.stock)
                        .where(s.sku == sku, s.location == location, s.on_hand - s.reserved >= qty)
                        .values(reserved=s.reserved + qty)
                    )
                    if done.rowcount != 1:
                        raise Conflict(f"{qty} x {sku} at {location}")
                rows = [
                    {
                        "order_id": order_id,
                        "sku": p.sku,
                        "location": p.location,
                        "qty": p.qty,
                        "created": now,
                    }
                    for order_id, picks, _ in claims
                    for p in picks
                    if p.qty > 0
                ]
                if rows:
                    conn.execute(sa.insert(r), rows)
                plans = [
                    {"order_id": order_id, "plan": plan}
                    for order_id, picks, plan in claims
                    if plan is not None and any(p.qty > 0 for p in picks)
                ]
                if plans:
                    conn.execute(sa.insert(self.plan_table), plans)
        except sa.exc.IntegrityError:
            # a second planner reserved the same order id at the same moment
            raise AlreadyReserved(order_id) from None
        except sa.exc.OperationalError as exc:
            if _is_contention(exc):
                raise Conflict(str(exc.orig)) from None
            raise

    def release(self, order_id: str) -> list[Pick]:
        """Give back every unit the order holds (one transaction); returns them."""
        with self._connection() as conn:
            held = self._held(conn, order_id)
            self._give_back(conn, order_id, held)
        return held

    def consume(self, order_id: str) -> list[Pick]:
        """Take an order's reserved units off the shelves once it is built (one
        transaction): on hand and reserved both shrink by them. Returns them (none:
        the order held nothing)."""
        sa = self._sa
        s = self.stock.c
        with self._connection() as conn:
            held = self._held(conn, order_id)
            for pick in held:
                conn.execute(
                    sa.update(self.stock)
                    .where(s.sku == pick.sku, s.location == pick.location)
                    .values(on_hand=s.on_hand - pick.qty, reserved=s.reserved - pick.qty)
                )
            self._forget(conn, order_id)
        return held

    def _held(self, conn: Any, order_id: str) -> list[Pick]:
        r = self.reservations
        rows = conn.execute(
            self._sa.select(r.c.sku, r.c.location, r.c.qty)
            .where(r.c.order_id == order_id)
            .order_by(r.c.sku, r.c.location)
        )
        return [Pick(*row) for row in rows]

    def _give_back(self, conn: Any, order_id: str, picks: Sequence[Pick]) -> None:
        sa = self._sa
        s = self.stock.c
        for pick in sorted(picks, key=lambda p: (p.sku, p.location)):
            conn.execute(
                sa.update(self.stock)
                .where(s.sku == pick.sku, s.location == pick.location)
                .values(reserved=s.reserved - pick.qty)
            )
        self._forget(conn, order_id)

    def _forget(self, conn: Any, order_id: str) -> None:
        """Drop an order's reservation rows and its stored plan (the shelves are the
        caller's)."""
        sa = self._sa
        conn.execute(sa.delete(self.reservations).where(self.reservations.c.order_id == order_id))
        conn.execute(sa.delete(self.plan_table).where(self.plan_table.c.order_id == order_id))


def _unknown_receipts(
    receipts: Receipts, skus: set[str], places: set[str], database: str
) -> list[Diagnostic]:
    """E0812 at the first row of each SKU the stock does not know, and of each location
    where it has no shelf."""
    found = []
    for sku in sorted({p.sku for p in receipts.picks} - skus):
        found.append(
            error(
                "E0812",
                f"SKU '{sku}' is not in the stock of {database}",
                receipts.rows.get(sku),
                hint=did_you_mean(sku, skus)
                or "check the part number; a new SKU comes in with `atoconf stock import`",
            )
        )
    for place in sorted({p.location for p in receipts.picks} - places):
        found.append(
            error(
                "E0812",
                f"location '{place}' has no shelf in {database}",
                receipts.places.get(place),
                hint=did_you_mean(place, places)
                or "check the location; a new one comes in with `atoconf stock import`",
            )
        )
    return found


def _sqlite_locking(engine: Any) -> None:
    """SQLite: take the write lock when a transaction begins (BEGIN IMMEDIATE), so a
    transaction never reads stock that another one is about to change, and wait for
    the lock instead of failing at once."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # atoconf issues BEGIN itself
        dbapi_connection.execute("PRAGMA busy_timeout = 60000")
        # with the write-ahead log (set by `init`), a commit survives the process
        # being killed whatever this says; NORMAL spares an fsync per transaction
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _missing_table(exc: Any) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _is_contention(exc: Any) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "deadlock" in text or "could not serialize" in text or "database is locked" in text


def _newer(spec: str, version: int) -> tuple[str, str]:
    return (
        f"'{spec}' has stock schema {version}, newer than this atoconf knows ({SCHEMA_VERSION})",
        "upgrade atoconf",
    )


def _unusable(message: str, hint: str) -> StockError:
    """A database that cannot serve as stock (E0808)."""
    return StockError([error("E0808", message, None, hint=hint)], {})


def open_stock(spec: str, supply: str | None = None) -> Stock:
    """Stock from a CSV file (with supply.csv beside it or `supply`) or a database."""
    if is_database(spec):
        return StockDatabase(spec).snapshot()
    return Stock.from_csv(spec, supply)
