"""Every diagnostic code, with a short name and title (docs/errors.md shows examples)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    name: str
    title: str


CODES: dict[str, Code] = {
    # files
    "E0001": Code("unreadable-file", "A file cannot be read"),
    "E0002": Code("empty-file", "A rule file is empty"),
    # syntax
    "E0100": Code("unexpected-character", "A character that no token starts with"),
    "E0101": Code("syntax-error", "The text does not follow the grammar"),
    "E0102": Code("unterminated-string", "A string is not closed on its line"),
    "E0103": Code("reserved-keyword", "A reserved keyword is used as a name"),
    "E0104": Code("unclosed-brace", "A `{` not closed before the next declaration"),
    # names
    "E0201": Code("unknown-name", "A name that is not declared"),
    "E0202": Code("duplicate-name", "A name declared twice"),
    "E0203": Code("wrong-kind-of-name", "A name of the wrong kind in this place"),
    "E0204": Code("unknown-attribute", "An attribute the part type does not have"),
    "E0205": Code("unknown-sku", "A part number that is not usable here"),
    "E0206": Code("duplicate-sku", "A part number declared twice"),
    "E0207": Code("unknown-member", "A value that is not a member of the enum"),
    "E0208": Code("ambiguous-member", "A bare enum member without an enum to resolve it"),
    "E0209": Code("unknown-function", "A function that does not exist"),
    # types
    "E0301": Code("type-mismatch", "Values of types that cannot be combined"),
    "E0302": Code("different-enums", "A comparison between two different enums"),
    "E0303": Code("not-a-condition", "A rule, `when` or `where` that is not true/false"),
    "E0304": Code("bad-arguments", "A function called with the wrong arguments"),
    "E0305": Code("number-too-long", "A number with more digits than any real value needs"),
    "E0306": Code("expression-too-deep", "An expression nested too deeply"),
    # lint (`atoconf check`)
    "W0301": Code("void-model", "A product with no valid assembly at all"),
    "W0302": Code("dead-choice", "A part, quantity or `none` no valid assembly chooses"),
    "W0303": Code("dead-option-value", "An option value no valid assembly has"),
    "W0304": Code("redundant-rule", "A rule that the other rules imply"),
    "W0305": Code("rule-never-applies", "An implication whose premise can never hold"),
    "W0306": Code("unusable-part", "A part that no component can choose"),
    "W0307": Code("step-uses-nothing", "A step that names a component but uses none"),
    "W0308": Code("unused-option", "An option that no rule, `where` or step reads"),
    "W0309": Code("unused-enum-member", "Enum members that nothing uses"),
    "W0310": Code("unused-declaration", "A part type or enum that nothing uses"),
    "W0311": Code("lint-stopped", "Lints cut short by their deadline"),
    "W0312": Code("division-by-zero", "A rule that divides by zero for some parts"),
    # parts
    "E0401": Code("missing-attribute", "A part without a value for a required attribute"),
    "E0402": Code("wrong-value", "A value of the wrong type for its attribute"),
    "E0403": Code("unknown-attribute-in-part", "A part gives an attribute its type lacks"),
    "E0404": Code("bad-csv", "A CSV parts file that cannot be read as a table"),
    "E0405": Code("bad-csv-header", "A CSV header that is not `sku,name,<attributes>`"),
    "E0406": Code("repeated-attribute", "An attribute given twice"),
    # structure
    "E0501": Code("import-cycle", "Files that import each other in a cycle"),
    "E0502": Code("import-not-found", "An import or CSV file that cannot be read"),
    "E0503": Code("import-product", "An import of a product file"),
    "E0504": Code("step-cycle", "Steps whose `after` form a cycle"),
    "E0505": Code("bad-quantity", "A quantity range that is empty or starts below 1"),
    "E0506": Code("two-products", "More than one product line in a file"),
    "E0507": Code("bad-option", "An option whose range or default is invalid"),
    "E0508": Code("repeated-clause", "A step clause given twice"),
    # tests in rule files
    "E0601": Code("bad-given", "A test's `given` that chooses something impossible"),
    "E0602": Code("test-failed", "An expectation of a test in a rule file that does not hold"),
    "W0603": Code("uncovered-rule", "A rule whose removal no test would notice"),
    # requests
    "E0701": Code("malformed-request", "A request that is not valid JSON"),
    "E0702": Code("unknown-request-key", "A request key that is not one of the six"),
    "E0703": Code("bad-select-value", "A value its component, quantity or option cannot take"),
    "E0704": Code("bad-request-field", "A request field of the wrong type or out of range"),
    "E0705": Code("unknown-select", "A select key that is not a component, quantity or option"),
    "E0706": Code("unusable-sku", "A selected part number the component cannot use"),
    "E0707": Code("fixed-quantity", "A quantity selected for a component with a fixed quantity"),
    "E0708": Code("require-not-a-condition", "A requirement that is not true/false"),
    "E0709": Code("objective-not-a-number", "An objective that is not a number"),
    "E0710": Code("bad-set-flag", "A --set flag that is not key=value"),
    # stock, supply and orders
    "E0802": Code("bad-stock-csv", "A stock or supply CSV that cannot be read as a table"),
    "E0803": Code("bad-stock-header", "A stock or supply header with unknown or missing columns"),
    "E0804": Code("bad-stock-row", "A stock or supply row with missing or extra cells"),
    "E0805": Code("bad-stock-number", "A quantity, lead time or cost that is not a valid number"),
    "E0806": Code("over-reserved", "More units reserved than are on hand"),
    "E0807": Code("duplicate-stock-row", "A SKU and location (or a supply SKU) listed twice"),
    "E0808": Code("bad-stock-database", "A stock database that cannot be used"),
    "E0809": Code("bad-order", "An order in an orders file that cannot be planned"),
    "E0810": Code("already-reserved", "An order that already holds a reservation"),
    "E0811": Code("bad-calendar", "A calendar file that cannot be read as working days"),
    "E0812": Code("unknown-receipt", "Goods booked in for a SKU or location the stock lacks"),
    "W0801": Code("unknown-stock-sku", "A SKU in the stock that is not a part of the model"),
    "W0802": Code("unpriced-sku", "A part in the stock without supply data: cost unknown"),
    "W0803": Code("unobtainable-part", "A part neither on a shelf nor in the supply data"),
    "W0804": Code("kept-without-plan", "A reserved order kept without its plan"),
    # atoconf serve: what an HTTP request gets wrong
    "E0901": Code("body-not-text", "An HTTP body that is not UTF-8 text"),
    "E0902": Code("bad-body-field", "An HTTP body with a wrong, missing or unknown field"),
    "E0903": Code("unknown-page", "A path or method the server does not have"),
    "E0904": Code("body-too-large", "An HTTP body larger than the server takes"),
    "E0905": Code("unknown-product", "A product the server does not serve"),
    "E0906": Code("writes-disabled", "A write to a server that does not take writes"),
    "E0907": Code("bad-token", "A write without the server's token"),
    "E0908": Code("no-stock", "A plan or a cost from a server without stock"),
    "E0909": Code("nothing-reserved", "A release of an order that holds nothing"),
    "E0999": Code("internal-error", "A failure inside atoconf (a bug)"),
}
