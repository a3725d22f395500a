"""CSV part files: real files on disk, every error at its file, line and column.

Each test writes `shop.ato` and `boards.csv` into a temporary folder and
loads the product from there, so file names in diagnostics are exactly
"shop.ato" and "boards.csv".
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from atoconf.language.build import LoadResult, load_file

PRODUCT = """\
product shop
enum Socket { AM5, LGA1700 }
type Board {
  sockets: set of Socket
  slots: int default 2
  price: decimal
  wifi: bool default false
}
parts Board from "boards.csv"
component board: Board
"""
# where `"boards.csv"` stands in PRODUCT: line 9, columns 18 to 30
CSV_STRING_AT = (9, 18, 9, 30)

HEADER = "sku,name,sockets,slots,price,wifi\n"


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop.ato").write_text(PRODUCT, encoding="utf-8")
    return tmp_path


def load(folder: Path, csv: str | bytes, product: str = PRODUCT) -> LoadResult:
    data = csv.encode("utf-8") if isinstance(csv, str) else csv
    (folder / "boards.csv").write_bytes(data)
    (folder / "shop.ato").write_text(product, encoding="utf-8")
    return load_file("shop.ato")


def where(result: LoadResult) -> list[tuple[str, str, int, int, int, int]]:
    """Each diagnostic as (code, file, line, col, end_line, end_col)."""
    out = []
    for d in result.diagnostics:
        assert d.span is not None, d
        s = d.span
        out.append((d.code, s.file, s.line, s.col, s.end_line, s.end_col))
    return out


def parts(result: LoadResult) -> dict[str, dict[str, object]]:
    assert result.diagnostics == [], result.diagnostics
    assert result.model is not None
    return {sku: {"name": part.name, **part.values} for sku, part in result.model.parts.items()}


# ---- what reads correctly -------------------------------------------------------------


def test_plain_rows_with_every_kind_of_value(shop: Path) -> None:
    result = load(
        shop,
        HEADER
        + "MB-1,Board one,AM5|LGA1700,4,189.00,true\n"
        + "MB-2,Board two,LGA1700,1,-0.50,false\n",
    )
    assert parts(result) == {
        "MB-1": {
            "name": "Board one",
            "sockets": frozenset({"AM5", "LGA1700"}),
            "slots": 4,
            "price": Decimal("189.00"),
            "wifi": True,
        },
        "MB-2": {
            "name": "Board two",
            "sockets": frozenset({"LGA1700"}),
            "slots": 1,
            "price": Decimal("-0.50"),
            "wifi": False,
        },
    }


def test_quoted_cells_keep_commas_and_doubled_quotes(shop: Path) -> None:
    row = 'MB-1,"Board ""Pro"", black, 2 slots","AM5|LGA1700","4",189.00,false\n'
    result = load(shop, HEADER + row)
    board = parts(result)["MB-1"]
    assert board["name"] == 'Board "Pro", black, 2 slots'
    assert board["sockets"] == frozenset({"AM5", "LGA1700"})
    assert board["slots"] == 4


def test_a_quoted_cell_may_span_lines(shop: Path) -> None:
    """A newline inside quotes belongs to the cell; later rows keep their real line numbers."""
    result = load(shop, HEADER + 'MB-1,"Board\none",AM5,4,1,false\nMB-2,Two,AM5,4x,1,false\n')
    assert where(result) == [("E0402", "boards.csv", 4, 14, 4, 16)]


def test_utf8_bom_is_dropped(shop: Path) -> None:
    result = load(shop, b"\xef\xbb\xbf" + (HEADER + "MB-1,Board,AM5,4,1.00,true\n").encode())
    assert parts(result)["MB-1"]["slots"] == 4


def test_utf8_bom_does_not_shift_columns(shop: Path) -> None:
    result = load(shop, b"\xef\xbb\xbf" + (HEADER + "MB-1,Board,AM5,x,1.00,true\n").encode())
    assert where(result) == [("E0402", "boards.csv", 2, 16, 2, 17)]


def test_crlf_line_endings(shop: Path) -> None:
    csv = HEADER + "MB-1,One,AM5,4,1.00,true\nMB-2,Two,AM5|LGA1700,,2.50,\n"
    result = load(shop, csv.replace("\n", "\r\n"))
    boards = parts(result)
    assert boards["MB-1"]["wifi"] is True  # not "true\r"
    assert boards["MB-2"]["sockets"] == frozenset({"AM5", "LGA1700"})
    assert boards["MB-2"]["slots"] == 2
    assert boards["MB-2"]["wifi"] is False


def test_crlf_errors_keep_their_columns(shop: Path) -> None:
    csv = HEADER + "MB-1,One,AM5,4,1.00,true\nMB-2,Two,AM5,x,2.50,true\n"
    result = load(shop, csv.replace("\n", "\r\n"))
    assert where(result) == [("E0402", "boards.csv", 3, 14, 3, 15)]


def test_trailing_blank_lines_are_ignored(shop: Path) -> None:
    result = load(shop, HEADER + "MB-1,One,AM5,4,1.00,true\n\n\n\n")
    assert list(parts(result)) == ["MB-1"]


def test_missing_final_newline(shop: Path) -> None:
    result = load(shop, HEADER + "MB-1,One,AM5,4,1.00,true")
    assert parts(result)["MB-1"]["wifi"] is True


def test_empty_cells_take_the_declared_defaults(shop: Path) -> None:
    result = load(shop, HEADER + "MB-1,,AM5,,1.00,\n")
    board = parts(result)["MB-1"]
    assert board["slots"] == 2
    assert board["wifi"] is False
    assert board["name"] == "MB-1"  # an empty name shows the SKU


def test_columns_with_defaults_may_be_left_out(shop: Path) -> None:
    result = load(shop, "sku,name,price,sockets\nMB-1,One,1.00,AM5\n")
    assert parts(result)["MB-1"] == {
        "name": "One",
        "sockets": frozenset({"AM5"}),
        "slots": 2,
        "price": Decimal("1.00"),
        "wifi": False,
    }


def test_decimals_are_exact(shop: Path) -> None:
    result = load(shop, HEADER + "MB-1,One,AM5,4,0.10,\nMB-2,Two,AM5,4,0.20,\n")
    boards = parts(result)
    prices = [boards["MB-1"]["price"], boards["MB-2"]["price"]]
    assert all(type(p) is Decimal for p in prices)
    assert prices[0] + prices[1] == Decimal("0.30")


def test_spaces_around_unquoted_cells_are_trimmed(shop: Path) -> None:
    result = load(shop, "sku , name , sockets , price\n MB-1 , One , AM5 | LGA1700 , 1.5 \n")
    board = parts(result)["MB-1"]
    assert board["name"] == "One"
    assert board["sockets"] == frozenset({"AM5", "LGA1700"})
    assert board["price"] == Decimal("1.5")


# ---- errors, each at its place --------------------------------------------------------


def test_empty_cell_without_default(shop: Path) -> None:
    result = load(shop, HEADER + "MB-1,One,,4,1.00,true\n")
    assert result.model is None
    assert where(result) == [("E0401", "boards.csv", 2, 10, 2, 11)]
    assert "sockets" in result.diagnostics[0].message


def test_empty_last_cell_without_default(shop: Path) -> None:
    """An empty cell at the end of a row is shown at the row's end, not on the next line."""
    result = load(shop, "sku,name,sockets,price\nMB-1,One,AM5,\n")
    assert where(result) == [("E0401", "boards.csv", 2, 14, 2, 15)]
    assert "price" in result.diagnostics[0].message


def test_bad_int_cell(shop: Path) -> None:
    result = load(shop, HEADER + "MB-1,One,AM5,4,1.00,true\nMB-2,Two,AM5,four,2.00,true\n")
    assert result.model is None
    assert where(result) == [("E0402", "boards.csv", 3, 14, 3, 18)]
    d = result.diagnostics[0]
    assert "'four'" in d.message and "slots" in d.message
    assert d.hint == "write a whole number, such as 8"


def test_whole_number_too_long_for_python(shop: Path) -> None:
    """5000 digits: read exactly or reported at the cell, never an exception."""
    digits = "9" * 5000
    result = load(shop, HEADER + f"MB-1,One,AM5,{digits},1.00,true\n")
    if result.diagnostics:
        assert where(result) == [("E0402", "boards.csv", 2, 14, 2, 5014)]
    else:
        assert parts(result)["MB-1"]["slots"] == int(digits)


def test_bad_cell_of_a_required_attribute_is_reported_once(shop: Path) -> None:
    """A cell that does not parse is one error at the cell, not also a missing value."""
    result = load(shop, HEADER + "MB-1,One,AM5,4,cheap,true\n")
    assert where(result) == [("E0402", "boards.csv", 2, 16, 2, 21)]


def test_bad_set_member(shop: Path) -> None:
    result = load(shop, "sku,name,sockets,price\nMB-1,One,AM5|AM4,1\n")
    assert where(result) == [("E0402", "boards.csv", 2, 10, 2, 17)]
    d = result.diagnostics[0]
    assert "'AM4' is not a member of Socket" in d.message
    assert "did you mean 'AM5'?" in d.message


def test_wrong_number_of_cells(shop: Path) -> None:
    result = load(shop, HEADER + "MB-1,One,AM5,4,1.00,true\nMB-2,Two,AM5,4\n")
    assert result.model is None
    assert where(result) == [("E0404", "boards.csv", 3, 1, 3, 15)]
    assert result.diagnostics[0].message == "this row has 4 cells; the header has 6"


def test_unknown_column_suggests_the_right_name(shop: Path) -> None:
    result = load(shop, "sku,name,sockets,slot,price\nMB-1,One,AM5,4,1.00\n")
    assert result.model is None
    assert where(result) == [("E0403", "boards.csv", 1, 18, 1, 22)]
    d = result.diagnostics[0]
    assert "'slot'" in d.message
    assert d.hint == "did you mean 'slots'?"


def test_missing_required_column(shop: Path) -> None:
    result = load(shop, "sku,name,sockets,slots\nMB-1,One,AM5,4\n")
    assert result.model is None
    assert [(c, f, line) for c, f, line, *_ in where(result)] == [("E0401", "boards.csv", 1)]
    assert "price" in result.diagnostics[0].message


def test_header_must_start_with_sku_and_name(shop: Path) -> None:
    result = load(shop, "name,sku,sockets,price\nOne,MB-1,AM5,1.00\n")
    assert result.model is None
    assert [(c, f, line, col) for c, f, line, col, *_ in where(result)] == [
        ("E0405", "boards.csv", 1, 1)
    ]
    assert result.diagnostics[0].hint == "the header is: sku,name,sockets,slots,price,wifi"


def test_empty_csv_file(shop: Path) -> None:
    result = load(shop, "")
    assert where(result) == [("E0405", "boards.csv", 1, 1, 1, 1)]


def test_missing_csv_file_is_reported_at_the_path_string(shop: Path) -> None:
    result = load_file("shop.ato")  # the fixture wrote shop.ato and no boards.csv
    assert result.model is None
    assert where(result) == [("E0502", "shop.ato", *CSV_STRING_AT)]
    assert "boards.csv" in result.diagnostics[0].message


def test_csv_path_is_relative_to_the_rule_file(shop: Path) -> None:
    (shop / "lib").mkdir()
    (shop / "lib" / "parts").mkdir()
    (shop / "lib" / "parts" / "boards.csv").write_text(HEADER + "MB-1,One,AM5,4,1,\n")
    (shop / "lib" / "boards.ato").write_text(
        PRODUCT.replace("product shop\n", "")
        .replace("component board: Board\n", "")
        .replace('"boards.csv"', '"parts/boards.csv"')
    )
    (shop / "shop.ato").write_text('product shop\nimport "lib/boards.ato"\ncomponent b: Board\n')
    result = load_file("shop.ato")
    assert result.diagnostics == []
    assert result.model is not None and list(result.model.parts) == ["MB-1"]


def test_unclosed_quote(shop: Path) -> None:
    result = load(shop, HEADER + 'MB-1,"One,AM5,4,1.00,true\nMB-2,Two,AM5,4,1.00,true\n')
    assert result.model is None
    assert where(result) == [("E0404", "boards.csv", 2, 6, 2, 7)]
    assert "not closed" in result.diagnostics[0].message


def test_duplicate_sku_between_csv_and_inline_parts(shop: Path) -> None:
    product = PRODUCT + 'parts Board {\n  "MB-1" "Inline": sockets={AM5}, price=1\n}\n'
    result = load(shop, HEADER + "MB-1,From CSV,AM5,4,1.00,true\n", product)
    assert result.model is None
    assert len(result.diagnostics) == 1
    d = result.diagnostics[0]
    assert d.code == "E0206"
    assert "MB-1" in d.message
    assert d.span is not None and d.related
    # one of the two declarations is blamed, the other is named as the first
    places = {(d.span.file, d.span.line, d.span.col)} | {
        (r.span.file, r.span.line, r.span.col) for r in d.related
    }
    assert places == {("boards.csv", 2, 1), ("shop.ato", 12, 3)}
