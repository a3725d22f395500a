"""A large PC product for the benchmarks: the bundled workstation catalog with every
CSV part list grown about ninefold by deterministic variants of its rows.

The rules, components and options are the catalog's own (12 components, 5
options, 30+ rules including the wattage headroom sum and the price-tier sum
over every component), so the benchmark measures a real product at scale, not
a toy built to be easy.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "catalogs" / "pc"
VARIANTS = 8  # new rows per catalog row: 164 rows grow to about 1,500

# what a variant may change (a vendor's factory-overclocked card draws a little
# more and is longer; a case revision gains clearance); sockets, form factors and
# the like stay as they are, so the variants fit the rest of the catalog
STEPS: dict[str, dict[str, tuple[int, ...]]] = {
    "gpus.csv": {"tdp": (0, 0, 10, 20, 30), "length_mm": (-10, 0, 0, 15, 30)},
    "cases.csv": {"max_gpu_mm": (-20, 0, 0, 10, 25), "max_cooler_mm": (-5, 0, 0, 5)},
    "coolers.csv": {"height_mm": (-3, 0, 0, 2)},
    "memory.csv": {"speed_mts": (0, 0, 400, 800)},
}
WATTS = (450, 550, 650, 750, 850, 1000, 1200, 1300, 1600)


@dataclass
class LargePc:
    entry: Path  # the product's .ato file
    skus: int


def _price(text: str, rng: Random) -> str:
    """Another vendor's price for the same part: whole euros, within -15%..+20%."""
    factor = Decimal(str(round(rng.uniform(0.85, 1.2), 3)))
    euros = max(Decimal(5), (Decimal(text) * factor).quantize(Decimal(1)))
    return str(euros.quantize(Decimal("1.00")))


def _variant(file: str, row: dict[str, str], k: int, rng: Random) -> dict[str, str]:
    out = dict(row)
    out["sku"] = f"{row['sku']}-V{k}"
    out["name"] = f"{row['name']} (variant {k})"
    for column, steps in STEPS.get(file, {}).items():
        if row.get(column):
            out[column] = str(max(1, int(row[column]) + rng.choice(steps)))
    if row.get("watts"):  # a power supply line comes in several wattages
        out["watts"] = str(rng.choice(WATTS))
    if row.get("price"):
        out["price"] = _price(row["price"], rng)
    return out


def _grow(file: str, text: str, rng: Random) -> tuple[str, int]:
    rows = list(csv.DictReader(io.StringIO(text)))
    fields = list(rows[0])
    grown = [*rows, *(_variant(file, r, k, rng) for r in rows for k in range(1, VARIANTS + 1))]
    out = io.StringIO()
    writer = csv.DictWriter(out, fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(grown)
    return out.getvalue(), len(grown)


def generate_large_pc(seed: int, folder: Path) -> LargePc:
    """Copy the PC catalog into `folder` with its part lists grown; deterministic."""
    rng = Random(seed)
    target = folder / "large_pc"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(CATALOG, target)
    skus = 0
    for path in sorted((target / "parts").glob("*.csv")):
        text, rows = _grow(path.name, path.read_text(encoding="utf-8"), rng)
        path.write_text(text, encoding="utf-8")
        skus += rows
    entry = target / "workstation.ato"
    source = entry.read_text(encoding="utf-8")
    # the catalog's own tests name SKUs and expectations of the small catalog
    entry.write_text(source.split("\ntest ")[0] + "\n", encoding="utf-8")
    return LargePc(entry, skus + 16)  # + the inline Wi-Fi cards, fan packs and systems
