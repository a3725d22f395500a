#!/usr/bin/env python3
"""How fast does atoconf load a large product?

Generates a realistic product of about `--lines` lines (workstations and
servers built to order: ~2,000 SKUs over 12 part types, inline and from CSV,
~500 rules, ~30 assembly steps, ~50 tests, a library it imports), then
measures in this one process:

- a baseline: reading the files and splitting them into tokens with one
  regular expression (the cost any parser pays; shown as a ratio);
- `atoconf.load(path)` (parse + build + type check): the first, cold run,
  which includes loading the grammar, then the best of `--runs` warm runs
  (the cold run is their warm-up);
- the peak memory of one load under `tracemalloc`, and the process's max RSS.

    python benchmarks/bench_parse.py [--lines 10000] [--seed 1] [--keep DIR]

The generated model is deterministic for a seed and semantically valid: every
name exists, types match, SKUs are unique, each part row gives every attribute
without a default, `after` forms a DAG. Exit status: 0 whatever the timings
(a benchmark reports, it does not fail CI); 2 when the load reports errors.
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import re
import sys
import tempfile
import time
import traceback
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

GOAL_LOAD_S = 1.0
GOAL_PEAK_MB = 200.0
TOKEN_RE = re.compile(r'[A-Za-z_]\w*|"[^"]*"|\d+(?:\.\d+)?|\S')
WIDTH = 92  # wrap generated lines near this many characters

Value = bool | int | Decimal | str | tuple[str, ...]


# ---- the vocabulary of the product ----------------------------------------------

LIBRARY_ENUMS: dict[str, tuple[str, ...]] = {
    "Socket": ("AM4", "AM5", "SP5", "LGA1200", "LGA1700", "LGA1851", "LGA4677"),
    "MemType": ("DDR4", "DDR5"),
    "FormFactor": ("MiniITX", "MicroATX", "ATX", "EATX"),
    "PcieGen": ("Gen3", "Gen4", "Gen5"),
    "DriveIf": ("NVMe", "SATA", "SAS"),
    "DriveForm": ("M2_2280", "M2_22110", "U2", "Bay25", "Bay35"),
    "Color": ("Black", "White", "Graphite"),
}
PRODUCT_ENUMS: dict[str, tuple[str, ...]] = {
    "CpuVendor": ("Amd", "Intel"),
    "Chipset": (
        "B550",
        "X570",
        "A620",
        "B650",
        "X670",
        "X870",
        "WRX90",
        "H510",
        "B560",
        "Z590",
        "H610",
        "B760",
        "Z790",
        "B860",
        "Z890",
        "W790",
    ),
    "Tier": ("Entry", "Mid", "High", "Extreme"),
    "CoolerKind": ("Air", "AIO240", "AIO360", "Passive"),
    "Efficiency": ("Bronze", "Gold", "Platinum", "Titanium"),
    "PsuForm": ("PsATX", "SFX", "SFXL"),
    "GpuVendor": ("Nvidia", "Radeon", "IntelArc"),
    "Port": ("HDMI21", "DP14", "DP21", "USBC"),
    "NicChip": ("I210", "I226", "X550", "X710", "E810", "CX6"),
    "RaidLevel": ("R0", "R1", "R5", "R6", "R10"),
    "OsFamily": ("Win11Home", "Win11Pro", "WinServer", "Ubuntu", "Rhel", "NoOs"),
}
TIERS = PRODUCT_ENUMS["Tier"]
USAGES = ("office", "gaming", "cad", "render", "server", "ai")
REGIONS = ("eu", "us", "uk", "apac")

CHIPSETS = {
    "AM4": ("B550", "X570"),
    "AM5": ("A620", "B650", "X670", "X870"),
    "SP5": ("WRX90",),
    "LGA1200": ("H510", "B560", "Z590"),
    "LGA1700": ("H610", "B760", "Z790"),
    "LGA1851": ("B860", "Z890"),
    "LGA4677": ("W790",),
}
TOP_CHIPSETS = {
    "AM4": ("X570",),
    "AM5": ("X670", "X870"),
    "SP5": ("WRX90",),
    "LGA1200": ("Z590",),
    "LGA1700": ("Z790",),
    "LGA1851": ("Z890",),
    "LGA4677": ("W790",),
}
SERVER_SOCKETS = ("SP5", "LGA4677")
DESKTOP_SOCKETS = ("AM4", "AM5", "LGA1200", "LGA1700", "LGA1851")
SOCKET_MEM = {
    "AM4": "DDR4",
    "AM5": "DDR5",
    "SP5": "DDR5",
    "LGA1200": "DDR4",
    "LGA1700": "DDR5",
    "LGA1851": "DDR5",
    "LGA4677": "DDR5",
}
SOCKET_PCIE = {
    "AM4": "Gen4",
    "AM5": "Gen5",
    "SP5": "Gen5",
    "LGA1200": "Gen4",
    "LGA1700": "Gen5",
    "LGA1851": "Gen5",
    "LGA4677": "Gen5",
}


@dataclass(frozen=True)
class Attr:
    name: str
    kind: str  # int | decimal | bool | string | enum | set
    enum: str = ""
    unit: str = ""
    default: Value | None = None  # None: no default, the attribute is required

    def type_text(self) -> str:
        if self.kind == "enum":
            return self.enum
        if self.kind == "set":
            return f"set of {self.enum}"
        return self.kind


@dataclass
class PartType:
    name: str
    attrs: tuple[Attr, ...]
    library: bool = False
    csv_file: str = ""  # relative to the product file; "" for inline parts
    doc: str = ""


@dataclass
class Part:
    sku: str
    name: str
    values: dict[str, Value]


def _i(name: str, unit: str = "", default: int | None = None) -> Attr:
    return Attr(name, "int", unit=unit, default=default)


def _e(name: str, enum: str, default: str | None = None) -> Attr:
    return Attr(name, "enum", enum=enum, default=default)


PRICE = Attr("price", "decimal", unit="EUR")

TYPES: tuple[PartType, ...] = (
    PartType(
        "Memory",
        (
            _e("mem_type", "MemType"),
            _i("size_gb", "GB"),
            _i("speed", "MT/s"),
            Attr("ecc", "bool", default=False),
            Attr("rgb", "bool", default=False),
            _i("height_mm", "mm"),
            _e("color", "Color", "Black"),
            PRICE,
        ),
        library=True,
        csv_file="parts/memory.csv",
        doc="one module; a component's qty is the count",
    ),
    PartType(
        "Drive",
        (
            _e("interface", "DriveIf"),
            _e("form", "DriveForm"),
            _i("capacity_gb", "GB"),
            _i("read_mbs", "MB/s"),
            _i("endurance_tbw", "TB"),
            _e("pcie", "PcieGen", "Gen3"),
            PRICE,
        ),
        library=True,
        doc="SSDs and hard disks",
    ),
    PartType(
        "Fan",
        (
            _i("size_mm", "mm"),
            Attr("airflow_cfm", "decimal", unit="CFM"),
            _i("noise", "dBA"),
            Attr("rgb", "bool", default=False),
            _e("color", "Color", "Black"),
            PRICE,
        ),
        library=True,
        doc="case fans",
    ),
    PartType(
        "CPU",
        (
            _e("vendor", "CpuVendor"),
            Attr("series", "string"),
            _e("socket", "Socket"),
            _i("cores"),
            _i("threads"),
            _i("base_mhz", "MHz"),
            _i("tdp", "W"),
            Attr("igpu", "bool", default=False),
            _e("mem_type", "MemType"),
            _i("max_mem_speed", "MT/s"),
            _e("pcie", "PcieGen"),
            Attr("ecc", "bool", default=False),
            _e("tier", "Tier"),
            PRICE,
        ),
    ),
    PartType(
        "Board",
        (
            _e("socket", "Socket"),
            _e("chipset", "Chipset"),
            _e("form", "FormFactor"),
            _e("mem_type", "MemType"),
            _i("ram_slots"),
            _i("max_mem_gb", "GB"),
            _i("max_mem_speed", "MT/s"),
            _i("m2_slots"),
            _i("sata_ports"),
            _i("x16_slots"),
            _e("pcie", "PcieGen"),
            Attr("wifi", "bool", default=False),
            Attr("ecc", "bool", default=False),
            Attr("bmc", "bool", default=False),
            _e("color", "Color", "Black"),
            PRICE,
        ),
    ),
    PartType(
        "Cooler",
        (
            _e("kind", "CoolerKind"),
            Attr("sockets", "set", enum="Socket"),
            _i("height_mm", "mm"),
            _i("max_tdp", "W"),
            _i("noise", "dBA"),
            Attr("rgb", "bool", default=False),
            PRICE,
        ),
        csv_file="parts/coolers.csv",
    ),
    PartType(
        "PSU",
        (
            _i("watts", "W"),
            _e("efficiency", "Efficiency"),
            _e("form", "PsuForm"),
            Attr("modular", "bool", default=False),
            _i("pcie_8pin"),
            Attr("has_12vhpwr", "bool", default=False),
            _i("noise", "dBA"),
            PRICE,
        ),
    ),
    PartType(
        "Case",
        (
            Attr("forms", "set", enum="FormFactor"),
            Attr("psu_forms", "set", enum="PsuForm"),
            _i("max_cooler_mm", "mm"),
            _i("max_gpu_mm", "mm"),
            _i("max_radiator", "mm", 0),
            _i("bays_35"),
            _i("bays_25"),
            _i("fan_slots"),
            Attr("window", "bool", default=False),
            _e("color", "Color"),
            PRICE,
        ),
    ),
    PartType(
        "GPU",
        (
            _e("vendor", "GpuVendor"),
            Attr("model", "string"),
            _i("vram_gb", "GB"),
            _i("tdp", "W"),
            _i("length_mm", "mm"),
            _i("slots"),
            _e("pcie", "PcieGen"),
            Attr("outputs", "set", enum="Port"),
            _i("power_8pin", default=0),
            Attr("needs_12vhpwr", "bool", default=False),
            _e("tier", "Tier"),
            PRICE,
        ),
    ),
    PartType(
        "NIC",
        (
            _e("chip", "NicChip"),
            _i("speed_mbps", "Mbit/s"),
            _i("ports"),
            _e("pcie", "PcieGen"),
            PRICE,
        ),
    ),
    PartType(
        "RaidCard",
        (
            Attr("levels", "set", enum="RaidLevel"),
            Attr("interfaces", "set", enum="DriveIf"),
            _i("ports"),
            _e("pcie", "PcieGen"),
            _i("cache_mb", "MB", 0),
            PRICE,
        ),
    ),
    PartType(
        "OsLicense",
        (
            _e("family", "OsFamily"),
            Attr("server_edition", "bool", default=False),
            _i("seats", default=1),
            PRICE,
        ),
    ),
)
SKU_SHARE = {  # of all SKUs
    "CPU": 0.10,
    "Board": 0.15,
    "Memory": 0.17,
    "Cooler": 0.08,
    "PSU": 0.075,
    "Case": 0.075,
    "GPU": 0.10,
    "Drive": 0.17,
    "NIC": 0.03,
    "Fan": 0.03,
    "RaidCard": 0.015,
    "OsLicense": 0.01,
}


# ---- part catalogues -----------------------------------------------------------


def num(values: dict[str, Value], key: str) -> int:
    value = values[key]
    assert isinstance(value, int)
    return value


def members_of(part: Part, key: str) -> tuple[str, ...]:
    value = part.values[key]
    assert isinstance(value, tuple)
    return value


def money(x: float, rng: Random) -> Decimal:
    return Decimal(f"{max(int(x), 1)}.{rng.choice(('00', '90', '99', '49'))}")


CPU_FAMILIES = (
    # vendor, socket, series, model numbers, cores, tdps, base price, igpu share, ecc
    ("Amd", "AM4", "Ryzen 5", (5500, 5600), (6,), (65,), 120, 0.3, False),
    ("Amd", "AM4", "Ryzen 7", (5700, 5800), (8,), (65, 105), 190, 0.3, False),
    ("Amd", "AM4", "Ryzen 9", (5900, 5950), (12, 16), (105,), 330, 0.0, False),
    ("Amd", "AM5", "Ryzen 5", (7600, 9600), (6,), (65, 105), 210, 0.95, False),
    ("Amd", "AM5", "Ryzen 7", (7700, 9700, 7800), (8,), (65, 105, 120), 320, 0.95, False),
    ("Amd", "AM5", "Ryzen 9", (7900, 7950, 9950), (12, 16), (120, 170), 520, 0.95, True),
    (
        "Amd",
        "SP5",
        "EPYC",
        (9124, 9254, 9354, 9454, 9554),
        (16, 24, 32, 48, 64),
        (200, 240, 280, 360),
        1400,
        0.0,
        True,
    ),
    ("Intel", "LGA1200", "Core i5", (11400, 11600), (6,), (65, 125), 150, 0.8, False),
    ("Intel", "LGA1200", "Core i7", (11700,), (8,), (65, 125), 260, 0.8, False),
    (
        "Intel",
        "LGA1700",
        "Core i5",
        (12400, 13400, 14400, 14600),
        (6, 10, 14),
        (65, 125),
        190,
        0.7,
        False,
    ),
    ("Intel", "LGA1700", "Core i7", (13700, 14700), (16, 20), (65, 125), 360, 0.7, False),
    ("Intel", "LGA1700", "Core i9", (13900, 14900), (24,), (125, 150), 520, 0.7, False),
    ("Intel", "LGA1851", "Core Ultra 5", (225, 245), (10, 14), (65, 125), 250, 1.0, False),
    ("Intel", "LGA1851", "Core Ultra 7", (265,), (20,), (65, 125), 380, 1.0, False),
    ("Intel", "LGA1851", "Core Ultra 9", (285,), (24,), (65, 125), 560, 1.0, False),
    (
        "Intel",
        "LGA4677",
        "Xeon W",
        (2445, 2475, 3435, 3475),
        (10, 20, 16, 36),
        (175, 225, 270),
        1100,
        0.0,
        True,
    ),
)


def tier_of(price: float, steps: tuple[float, float, float]) -> str:
    for tier, limit in zip(TIERS, steps, strict=False):
        if price < limit:
            return tier
    return TIERS[-1]


def gen_cpus(rng: Random, n: int) -> list[Part]:
    parts = []
    for i in range(n):
        vendor, socket, series, models, cores_opts, tdps, base, igpu_share, ecc = rng.choice(
            CPU_FAMILIES
        )
        model = rng.choice(models)
        if socket in SERVER_SOCKETS:
            suffix = ""
        elif vendor == "Amd":
            suffix = rng.choice(("", "X", "X", "X3D", "G"))
        else:
            suffix = rng.choice(("", "K", "F", "KF", "T"))
        cores = rng.choice(cores_opts)
        tdp = rng.choice(tdps)
        if suffix == "T":
            tdp = 35
        price = base * rng.uniform(0.8, 1.35) * (1 + 0.08 * cores_opts.index(cores))
        brand = "AMD" if vendor == "Amd" else "Intel"
        mem = SOCKET_MEM[socket]
        if socket == "LGA1700" and rng.random() < 0.3:
            mem = "DDR4"
        values: dict[str, Value] = {
            "vendor": vendor,
            "series": series,
            "socket": socket,
            "cores": cores,
            "threads": cores * 2 if vendor == "Amd" or rng.random() < 0.4 else cores + cores // 2,
            "base_mhz": rng.randrange(2000, 4800, 100),
            "tdp": tdp,
            "igpu": suffix == "G" or (rng.random() < igpu_share and "F" not in suffix),
            "mem_type": mem,
            "max_mem_speed": 3200 if mem == "DDR4" else rng.choice((4800, 5200, 5600, 6400)),
            "pcie": SOCKET_PCIE[socket],
            "ecc": ecc,
            "tier": tier_of(price, (200, 400, 800)),
            "price": money(price, rng),
        }
        code = series.replace("Core ", "").replace("Ryzen ", "R").replace(" ", "")
        parts.append(
            Part(f"CPU-{code}-{model}{suffix}-{i:04d}", f"{brand} {series} {model}{suffix}", values)
        )
    return parts


def gen_boards(rng: Random, n: int) -> list[Part]:
    makers = ("ASUS", "MSI", "Gigabyte", "ASRock", "Supermicro")
    parts = []
    for i in range(n):
        server = rng.random() < 0.12
        socket = rng.choice(SERVER_SOCKETS if server else DESKTOP_SOCKETS)
        chipset = rng.choice(CHIPSETS[socket])
        if server:
            form = rng.choice(("ATX", "EATX", "EATX"))
        else:
            form = rng.choices(("MiniITX", "MicroATX", "ATX", "EATX"), (2, 3, 6, 1))[0]
        mem = SOCKET_MEM[socket]
        if socket == "LGA1700" and rng.random() < 0.3:
            mem = "DDR4"
        slots = {"MiniITX": 2, "MicroATX": rng.choice((2, 4)), "ATX": 4, "EATX": 8}[form]
        per_slot = 32 if mem == "DDR4" else (128 if server else 48)
        top = chipset in TOP_CHIPSETS[socket]
        price = (90 + 60 * (form == "EATX") + (140 if top else 0) + (500 if server else 0)) * (
            rng.uniform(0.9, 1.6)
        )
        values: dict[str, Value] = {
            "socket": socket,
            "chipset": chipset,
            "form": form,
            "mem_type": mem,
            "ram_slots": slots,
            "max_mem_gb": slots * per_slot,
            "max_mem_speed": 3600 if mem == "DDR4" else rng.choice((5600, 6000, 6400, 7200)),
            "m2_slots": 1 if form == "MiniITX" and rng.random() < 0.5 else rng.randint(2, 5),
            "sata_ports": rng.choice((2, 4, 6, 8)) if form != "MiniITX" else rng.choice((2, 4)),
            "x16_slots": {
                "MiniITX": 1,
                "MicroATX": rng.randint(1, 2),
                "ATX": rng.randint(1, 3),
                "EATX": rng.randint(3, 4),
            }[form],
            "pcie": SOCKET_PCIE[socket] if top or server else "Gen4",
            "wifi": not server and rng.random() < 0.5,
            "ecc": server or (socket == "AM5" and rng.random() < 0.2),
            "bmc": server,
            "color": rng.choices(("Black", "White", "Graphite"), (7, 2, 1))[0],
            "price": money(price, rng),
        }
        maker = "Supermicro" if server else rng.choice(makers[:4])
        name = f"{maker} {chipset} {form}{' WiFi' if values['wifi'] else ''}"
        parts.append(Part(f"MB-{chipset}-{form.upper()}-{i:04d}", name, values))
    return parts


def gen_memory(rng: Random, n: int) -> list[Part]:
    makers = ("Kingston", "Corsair", "G.Skill", "Crucial", "Samsung")
    parts = []
    for i in range(n):
        mem = rng.choice(("DDR4", "DDR5", "DDR5"))
        ecc = rng.random() < 0.2
        if mem == "DDR4":
            size, speed = rng.choice((8, 16, 32)), rng.choice((2666, 3200, 3600))
        elif ecc:
            size, speed = rng.choice((32, 64, 96, 128)), rng.choice((4800, 5600))
        else:
            size, speed = rng.choice((16, 24, 32, 48)), rng.choice((4800, 5600, 6000, 6400, 7200))
        rgb = not ecc and rng.random() < 0.3
        height = 31 if ecc else (rng.randint(44, 56) if rgb else rng.randint(31, 45))
        price = size * (2.2 if mem == "DDR5" else 1.8) * (1.3 if ecc else 1) * rng.uniform(0.9, 1.3)
        values: dict[str, Value] = {
            "mem_type": mem,
            "size_gb": size,
            "speed": speed,
            "ecc": ecc,
            "rgb": rgb,
            "height_mm": height,
            "color": rng.choice(("Black", "Black", "White")),
            "price": money(price, rng),
        }
        kind = "ECC RDIMM" if ecc else ("RGB" if rgb else "DIMM")
        parts.append(
            Part(
                f"MEM-{mem}-{speed}-{size}G-{i:04d}",
                f"{rng.choice(makers)} {size} GB {mem}-{speed} {kind}",
                values,
            )
        )
    return parts


def gen_drives(rng: Random, n: int) -> list[Part]:
    makers = ("Samsung", "WD", "Seagate", "Micron", "Kioxia", "Crucial")
    parts = []
    for i in range(n):
        interface = rng.choices(("NVMe", "SATA", "SAS"), (11, 6, 3))[0]
        if interface == "NVMe":
            gen = rng.choice(("Gen3", "Gen4", "Gen4", "Gen5"))
            form = rng.choices(("M2_2280", "M2_22110", "U2"), (8, 1, 1))[0]
            cap = rng.choice((256, 512, 1000, 2000, 4000, 8000))
            read = {
                "Gen3": 3500,
                "Gen4": rng.choice((5000, 7000, 7400)),
                "Gen5": rng.choice((10000, 12400, 14000)),
            }[gen]
            price = cap * 0.07 * (1.5 if gen == "Gen5" else 1) + 25
        else:
            gen = "Gen3"
            hdd = rng.random() < 0.5
            form = "Bay35" if hdd else "Bay25"
            cap = (
                rng.choice((2000, 4000, 8000, 12000, 16000, 20000))
                if hdd
                else rng.choice((480, 960, 1920, 3840))
            )
            read = 250 if hdd else (550 if interface == "SATA" else 1100)
            price = cap * (0.018 if hdd else 0.08) * (1.4 if interface == "SAS" else 1) + 30
        values: dict[str, Value] = {
            "interface": interface,
            "form": form,
            "capacity_gb": cap,
            "read_mbs": read,
            "endurance_tbw": max(cap * rng.choice((1, 2, 3)) // 2, 150),
            "pcie": gen,
            "price": money(price * rng.uniform(0.9, 1.25), rng),
        }
        size = f"{cap // 1000} TB" if cap >= 1000 else f"{cap} GB"
        parts.append(
            Part(
                f"DRV-{interface}-{cap}-{i:04d}",
                f"{rng.choice(makers)} {size} {interface} {form}",
                values,
            )
        )
    return parts


def gen_fans(rng: Random, n: int) -> list[Part]:
    parts = []
    for i in range(n):
        size = rng.choice((92, 120, 120, 140))
        rgb = rng.random() < 0.35
        values: dict[str, Value] = {
            "size_mm": size,
            "airflow_cfm": Decimal(f"{rng.uniform(30, 95):.1f}"),
            "noise": rng.randint(14, 38),
            "rgb": rgb,
            "color": rng.choice(("Black", "Black", "White")),
            "price": money(rng.uniform(9, 35) + (8 if rgb else 0), rng),
        }
        maker = rng.choice(("Noctua", "be quiet!", "Arctic", "Lian Li"))
        parts.append(
            Part(f"FAN-{size}-{i:04d}", f"{maker} {size} mm{' RGB' if rgb else ''}", values)
        )
    return parts


def gen_coolers(rng: Random, n: int) -> list[Part]:
    parts = []
    for i in range(n):
        kind = rng.choices(("Air", "AIO240", "AIO360", "Passive"), (11, 4, 3, 2))[0]
        if rng.random() < 0.1:
            sockets: tuple[str, ...] = (rng.choice(SERVER_SOCKETS),)
            kind = "Air"
        else:
            sockets = tuple(s for s in DESKTOP_SOCKETS if rng.random() < 0.8) or ("AM5",)
        height, tdp = {
            "Air": (rng.randint(47, 168), rng.randrange(95, 260, 5)),
            "AIO240": (rng.randint(27, 55), rng.randrange(200, 290, 10)),
            "AIO360": (rng.randint(27, 55), rng.randrange(250, 360, 10)),
            "Passive": (rng.randint(40, 110), rng.randrange(35, 100, 5)),
        }[kind]
        if sockets[0] in SERVER_SOCKETS:
            tdp = rng.randrange(250, 400, 10)
        rgb = kind != "Passive" and rng.random() < 0.3
        values: dict[str, Value] = {
            "kind": kind,
            "sockets": sockets,
            "height_mm": height,
            "max_tdp": tdp,
            "noise": 0 if kind == "Passive" else rng.randint(18, 40),
            "rgb": rgb,
            "price": money(tdp * 0.35 * rng.uniform(0.8, 1.4) + (20 if rgb else 0), rng),
        }
        maker = rng.choice(("Noctua", "be quiet!", "Arctic", "Thermalright", "Corsair"))
        parts.append(Part(f"COOL-{kind.upper()}-{i:04d}", f"{maker} {kind} {tdp} W", values))
    return parts


def gen_psus(rng: Random, n: int) -> list[Part]:
    parts = []
    for i in range(n):
        form = rng.choices(("PsATX", "SFX", "SFXL"), (8, 1, 1))[0]
        watts = rng.choice(
            (450, 550, 650, 750, 850)
            if form != "PsATX"
            else (450, 550, 650, 750, 850, 1000, 1200, 1300, 1600)
        )
        eff = rng.choices(("Bronze", "Gold", "Platinum", "Titanium"), (3, 6, 2, 1))[0]
        if watts <= 550:
            pins = 1
        elif watts <= 650:
            pins = 2
        elif watts <= 850:
            pins = rng.choice((3, 4))
        else:
            pins = rng.choice((4, 6))
        values: dict[str, Value] = {
            "watts": watts,
            "efficiency": eff,
            "form": form,
            "modular": eff != "Bronze" and rng.random() < 0.7,
            "pcie_8pin": pins,
            "has_12vhpwr": watts >= 850 and rng.random() < 0.7,
            "noise": rng.randint(15, 35),
            "price": money(
                watts * 0.12 * (1 + 0.2 * ("BGPT".index(eff[0]))) * rng.uniform(0.85, 1.25), rng
            ),
        }
        maker = rng.choice(("Seasonic", "Corsair", "be quiet!", "FSP"))
        parts.append(
            Part(f"PSU-{watts}-{eff[0]}-{i:04d}", f"{maker} {watts} W 80+ {eff} {form}", values)
        )
    return parts


CASE_CLASSES = (
    # name, board forms, psu forms, gpu mm, cooler mm, radiator, 3.5 bays, fan slots
    ("ITX", ("MiniITX",), ("SFX", "SFXL"), (180, 335), (48, 80), (0, 240), (0, 1), (1, 3)),
    (
        "mATX",
        ("MiniITX", "MicroATX"),
        ("PsATX", "SFX"),
        (280, 360),
        (150, 165),
        (240, 280),
        (1, 2),
        (3, 5),
    ),
    (
        "Midi",
        ("MiniITX", "MicroATX", "ATX"),
        ("PsATX",),
        (330, 420),
        (155, 185),
        (280, 360),
        (2, 4),
        (5, 8),
    ),
    (
        "Big",
        ("MiniITX", "MicroATX", "ATX", "EATX"),
        ("PsATX",),
        (400, 480),
        (170, 190),
        (360, 420),
        (4, 8),
        (7, 10),
    ),
    ("Server", ("ATX", "EATX"), ("PsATX",), (330, 400), (160, 180), (0, 360), (6, 12), (4, 8)),
)


def gen_cases(rng: Random, n: int) -> list[Part]:
    parts = []
    for i in range(n):
        name, forms, psu_forms, gpu, cooler, rad, bays, fans = rng.choice(CASE_CLASSES)
        window = name != "Server" and rng.random() < 0.6
        values: dict[str, Value] = {
            "forms": forms,
            "psu_forms": psu_forms,
            "max_cooler_mm": rng.randint(*cooler),
            "max_gpu_mm": rng.randint(*gpu),
            "max_radiator": rng.choice(rad),
            "bays_35": rng.randint(*bays),
            "bays_25": rng.randint(1, 4),
            "fan_slots": rng.randint(*fans),
            "window": window,
            "color": rng.choices(("Black", "White", "Graphite"), (6, 3, 1))[0],
            "price": money(rng.uniform(60, 220) * (1.8 if name in ("Big", "Server") else 1), rng),
        }
        maker = rng.choice(("Fractal", "Lian Li", "NZXT", "Phanteks", "Silverstone"))
        parts.append(
            Part(f"CASE-{name.upper()}-{i:04d}", f"{maker} {name} {values['color']}", values)
        )
    return parts


GPU_MODELS = (
    # vendor, model, vram, tdp, tier, base price, outputs
    ("Nvidia", "RTX 3050", 8, 130, "Entry", 199, ("HDMI21", "DP14")),
    ("Nvidia", "RTX 4060", 8, 115, "Entry", 299, ("HDMI21", "DP14")),
    ("Nvidia", "RTX 4060 Ti", 16, 165, "Mid", 449, ("HDMI21", "DP14")),
    ("Nvidia", "RTX 4070", 12, 200, "Mid", 549, ("HDMI21", "DP14")),
    ("Nvidia", "RTX 4070 Super", 12, 220, "High", 599, ("HDMI21", "DP14")),
    ("Nvidia", "RTX 4070 Ti Super", 16, 285, "High", 799, ("HDMI21", "DP14")),
    ("Nvidia", "RTX 4080 Super", 16, 320, "High", 999, ("HDMI21", "DP14")),
    ("Nvidia", "RTX 4090", 24, 450, "Extreme", 1799, ("HDMI21", "DP14")),
    ("Nvidia", "RTX 5090", 32, 575, "Extreme", 2199, ("HDMI21", "DP21")),
    ("Nvidia", "RTX A2000", 12, 70, "Mid", 599, ("DP14",)),
    ("Nvidia", "RTX 4000 Ada", 20, 130, "High", 1299, ("DP14",)),
    ("Nvidia", "RTX 6000 Ada", 48, 300, "Extreme", 6999, ("DP14",)),
    ("Radeon", "RX 7600", 8, 165, "Entry", 269, ("HDMI21", "DP21")),
    ("Radeon", "RX 7700 XT", 12, 245, "Mid", 419, ("HDMI21", "DP21")),
    ("Radeon", "RX 7800 XT", 16, 263, "Mid", 499, ("HDMI21", "DP21", "USBC")),
    ("Radeon", "RX 7900 XT", 20, 315, "High", 749, ("HDMI21", "DP21", "USBC")),
    ("Radeon", "RX 7900 XTX", 24, 355, "Extreme", 949, ("HDMI21", "DP21", "USBC")),
    ("Radeon", "Pro W7800", 32, 260, "Extreme", 2499, ("DP21",)),
    ("IntelArc", "Arc A380", 6, 75, "Entry", 129, ("HDMI21", "DP14")),
    ("IntelArc", "Arc A770", 16, 225, "Mid", 329, ("HDMI21", "DP21")),
    ("IntelArc", "Arc B580", 12, 190, "Mid", 249, ("HDMI21", "DP21")),
)


def gen_gpus(rng: Random, n: int) -> list[Part]:
    parts = []
    for i in range(n):
        vendor, model, vram, tdp, tier, base, outputs = rng.choice(GPU_MODELS)
        hpwr = vendor == "Nvidia" and tdp >= 200 and rng.random() < 0.85
        pins = 0 if hpwr or tdp <= 75 else (1 if tdp <= 200 else (2 if tdp <= 320 else 3))
        slots = 1 if tdp <= 75 else (2 if tdp <= 220 else rng.choice((2, 3, 3, 4)))
        length = rng.randint(160, 230) if tdp <= 130 else rng.randint(240, 360)
        values: dict[str, Value] = {
            "vendor": vendor,
            "model": model,
            "vram_gb": vram,
            "tdp": tdp + rng.choice((0, 0, 15)),
            "length_mm": length,
            "slots": slots,
            "pcie": "Gen5" if model.startswith("RTX 50") else "Gen4",
            "outputs": outputs,
            "power_8pin": pins,
            "needs_12vhpwr": hpwr,
            "tier": tier,
            "price": money(base * rng.uniform(0.95, 1.3), rng),
        }
        partner = rng.choice(("ASUS", "MSI", "Gigabyte", "Sapphire", "PNY", "Zotac"))
        slug = model.replace(" ", "")
        variant = rng.choice(("OC", "Dual", "Twin", "Eagle", "Aero"))
        parts.append(Part(f"GPU-{slug}-{i:04d}", f"{partner} {model} {variant}", values))
    return parts


NICS = (
    ("I210", 1000, 49),
    ("I226", 2500, 59),
    ("X550", 10000, 229),
    ("X710", 10000, 329),
    ("E810", 25000, 449),
    ("CX6", 100000, 1190),
)


def gen_nics(rng: Random, n: int) -> list[Part]:
    parts = []
    for i in range(n):
        chip, speed, base = rng.choice(NICS)
        ports = rng.choice((1, 2, 4)) if speed <= 25000 else rng.choice((1, 2))
        values: dict[str, Value] = {
            "chip": chip,
            "speed_mbps": speed,
            "ports": ports,
            "pcie": "Gen4" if speed >= 25000 else rng.choice(("Gen3", "Gen4")),
            "price": money(base * (1 + 0.4 * (ports - 1)) * rng.uniform(0.9, 1.2), rng),
        }
        parts.append(
            Part(f"NIC-{chip}-{ports}P-{i:04d}", f"Intel {chip} {ports}-port", values)
            if chip != "CX6"
            else Part(f"NIC-{chip}-{ports}P-{i:04d}", f"Mellanox ConnectX-6 {ports}-port", values)
        )
    return parts


def gen_raid(rng: Random, n: int) -> list[Part]:
    parts = []
    for i in range(n):
        interfaces = rng.choice((("SATA",), ("SATA", "SAS"), ("NVMe", "SATA", "SAS")))
        levels = tuple(
            x for x in ("R0", "R1", "R5", "R6", "R10") if x in ("R0", "R1") or rng.random() < 0.6
        )
        ports = rng.choice((4, 8, 16))
        values: dict[str, Value] = {
            "levels": levels,
            "interfaces": interfaces,
            "ports": ports,
            "pcie": rng.choice(("Gen3", "Gen4")),
            "cache_mb": rng.choice((0, 0, 1024, 2048, 4096)),
            "price": money(90 + ports * 25 * len(interfaces) * rng.uniform(0.9, 1.3), rng),
        }
        parts.append(
            Part(
                f"RAID-{ports}P-{i:04d}",
                f"Broadcom MegaRAID {ports}-port {'/'.join(interfaces)}",
                values,
            )
        )
    return parts


OS_FAMILIES = (
    ("Win11Home", 139, False),
    ("Win11Pro", 199, False),
    ("WinServer", 899, True),
    ("Ubuntu", 0, False),
    ("Rhel", 349, True),
    ("NoOs", 0, False),
)


def gen_os(rng: Random, n: int) -> list[Part]:
    parts = []
    for i in range(n):
        family, base, server = OS_FAMILIES[i % len(OS_FAMILIES)]
        seats = 1 if i < len(OS_FAMILIES) else rng.choice((1, 5, 10))
        if family == "Ubuntu" and i >= len(OS_FAMILIES):
            server, base = True, 225  # Ubuntu Pro support subscription
        values: dict[str, Value] = {
            "family": family,
            "server_edition": server,
            "seats": seats,
            "price": Decimal(0) if base == 0 else money(base * seats**0.8, rng),
        }
        parts.append(Part(f"OS-{family.upper()}-{i:03d}", f"{family} licence x{seats}", values))
    return parts


GENERATORS: dict[str, Callable[[Random, int], list[Part]]] = {
    "CPU": gen_cpus,
    "Board": gen_boards,
    "Memory": gen_memory,
    "Drive": gen_drives,
    "Fan": gen_fans,
    "Cooler": gen_coolers,
    "PSU": gen_psus,
    "Case": gen_cases,
    "GPU": gen_gpus,
    "NIC": gen_nics,
    "RaidCard": gen_raid,
    "OsLicense": gen_os,
}


# ---- components and options ---------------------------------------------------


@dataclass(frozen=True)
class Component:
    name: str
    type: str
    qty: tuple[int, int] | None = None
    optional: bool = False
    where: str = ""
    accepts: Callable[[dict[str, Value]], bool] = lambda v: True


COMPONENTS: tuple[Component, ...] = (
    Component("cpu", "CPU"),
    Component("board", "Board"),
    Component("memory", "Memory", (1, 4)),
    Component("cooler", "Cooler"),
    Component("psu", "PSU"),
    Component("case", "Case"),
    Component("gpu", "GPU", optional=True),
    Component(
        "gpu2",
        "GPU",
        optional=True,
        where="vram_gb >= 12",
        accepts=lambda v: num(v, "vram_gb") >= 12,
    ),
    Component(
        "boot",
        "Drive",
        where="interface == NVMe and capacity_gb >= 500",
        accepts=lambda v: v["interface"] == "NVMe" and num(v, "capacity_gb") >= 500,
    ),
    Component(
        "cache",
        "Drive",
        optional=True,
        where="interface == NVMe",
        accepts=lambda v: v["interface"] == "NVMe",
    ),
    Component(
        "scratch",
        "Drive",
        optional=True,
        where="interface == DriveIf.NVMe and read_mbs >= 5000",
        accepts=lambda v: v["interface"] == "NVMe" and num(v, "read_mbs") >= 5000,
    ),
    Component(
        "data",
        "Drive",
        (1, 4),
        optional=True,
        where="interface in {SATA, SAS}",
        accepts=lambda v: v["interface"] in ("SATA", "SAS"),
    ),
    Component(
        "backup",
        "Drive",
        optional=True,
        where="form == Bay35 and capacity_gb >= 8000",
        accepts=lambda v: v["form"] == "Bay35" and num(v, "capacity_gb") >= 8000,
    ),
    Component("nic", "NIC", optional=True),
    Component(
        "nic2",
        "NIC",
        optional=True,
        where="speed_mbps >= 10000",
        accepts=lambda v: num(v, "speed_mbps") >= 10000,
    ),
    Component("raid", "RaidCard", optional=True),
    Component("front_fans", "Fan", (1, 3), optional=True),
    Component(
        "top_fans",
        "Fan",
        (1, 3),
        optional=True,
        where="size_mm == 140",
        accepts=lambda v: v["size_mm"] == 140,
    ),
    Component(
        "rear_fan",
        "Fan",
        optional=True,
        where="size_mm <= 140 and noise <= 30",
        accepts=lambda v: num(v, "size_mm") <= 140 and num(v, "noise") <= 30,
    ),
    Component("os", "OsLicense"),
)
COMPONENT_BY_NAME = {c.name: c for c in COMPONENTS}

OPTIONS_TEXT = """\
option usage: enum { office, gaming, cad, render, server, ai } default office
option budget: Tier default Mid
option region: enum { eu, us, uk, apac } default eu
option warranty_years: int 1..5 default 2
option min_ram_gb: int 8..512 default 16
option storage_tb: int 1..64 default 1
option max_noise: int 20..60 default 40
option rgb: bool default false
option quiet: bool default false
option remote_mgmt: bool default false
option color_pref: Color
"""


# ---- the catalogue -------------------------------------------------------------


@dataclass
class Catalogue:
    parts: dict[str, list[Part]]  # by type name

    def domain(self, component: str) -> list[Part]:
        c = COMPONENT_BY_NAME[component]
        return [p for p in self.parts[c.type] if c.accepts(p.values)]

    def pick(self, rng: Random, component: str, test: Callable[[Part], bool]) -> Part | None:
        choices = [p for p in self.domain(component) if test(p)]
        return rng.choice(choices) if choices else None


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def members(items: tuple[str, ...] | list[str]) -> str:
    return "{" + ", ".join(items) + "}"


# ---- rules -------------------------------------------------------------------------


@dataclass
class RuleText:
    name: str
    description: str
    expr: str
    comment: str = ""


@dataclass
class RuleBook:
    rules: list[RuleText] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def add(self, name: str, description: str, expr: str, comment: str = "") -> None:
        unique, k = name, 2
        while unique in self.names:
            unique, k = f"{name}_{k}", k + 1
        self.names.add(unique)
        self.rules.append(RuleText(unique, description, expr, comment))


def core_rules(book: RuleBook) -> None:
    """The compatibility rules every PC builder has, one per physical fact."""
    r = book.add
    r(
        "socket_match",
        "CPU fits the motherboard socket",
        "cpu.socket == board.socket",
        "--- platform ---",
    )
    r("cpu_mem_type", "Memory generation matches the CPU", "memory.mem_type == cpu.mem_type")
    r(
        "board_mem_type",
        "Memory generation matches the motherboard",
        "memory.mem_type == board.mem_type",
    )
    r("memory_slots", "No more modules than DIMM slots", "memory.qty <= board.ram_slots")
    r(
        "memory_capacity",
        "Installed memory within the board's maximum",
        "memory.size_gb * memory.qty <= board.max_mem_gb",
    )
    r(
        "memory_speed",
        "No memory faster than the platform runs it, profiles included",
        "memory.speed <= max(cpu.max_mem_speed, board.max_mem_speed)",
    )
    r(
        "server_memory_speed",
        "Servers run memory at validated speed, without profiles",
        "usage == server -> memory.speed <= min(cpu.max_mem_speed, board.max_mem_speed)",
    )
    r(
        "ecc_support",
        "ECC memory needs an ECC-capable CPU and board",
        "memory.ecc -> cpu.ecc and board.ecc",
    )
    r(
        "enough_ram",
        "Installed memory meets the requested minimum",
        "memory.size_gb * memory.qty >= min_ram_gb",
    )
    r(
        "server_chipset",
        "Server CPUs only on workstation chipsets",
        "cpu.socket in {SP5, LGA4677} -> board.chipset in {WRX90, W790}",
    )
    r(
        "cooler_socket",
        "Cooler mounts on the CPU socket",
        "cpu.socket in cooler.sockets",
        "--- cooling ---",
    )
    r("cooler_tdp", "Cooler handles the CPU's heat", "cooler.max_tdp >= cpu.tdp")
    r(
        "cooler_height",
        "Tower cooler fits under the side panel",
        "cooler.kind == Air -> cooler.height_mm <= case.max_cooler_mm",
    )
    r(
        "radiator_fits",
        "AIO radiator has a mounting place",
        "if cooler.kind == AIO360 then case.max_radiator >= 360\n"
        "else if cooler.kind == AIO240 then case.max_radiator >= 240 else true",
    )
    r(
        "passive_low_power",
        "Passive coolers only for low-power CPUs without a big GPU",
        "cooler.kind == CoolerKind.Passive -> cpu.tdp <= 65 and (gpu == none or gpu.tdp <= 75)",
    )
    r(
        "fan_slots",
        "Case has a place for every fan",
        "front_fans.qty + top_fans.qty + count(rear_fan) <= case.fan_slots",
    )
    r(
        "top_fans_need_big_case",
        "Top fans need a case with at least six fan places",
        "top_fans != none -> case.fan_slots >= 6",
    )
    r(
        "board_fits_case",
        "Motherboard form factor fits the case",
        "board.form in case.forms",
        "--- case ---",
    )
    r("psu_fits_case", "Power supply form factor fits the case", "psu.form in case.psu_forms")
    r(
        "gpu_length",
        "Graphics cards fit the case",
        "max(gpu.length_mm, gpu2.length_mm) <= case.max_gpu_mm",
    )
    r(
        "bays_35",
        "Enough 3.5-inch bays",
        "count(backup) + (if data.form == Bay35 then data.qty else 0) <= case.bays_35",
    )
    r(
        "bays_25",
        "Enough 2.5-inch bays",
        "(if data.form == Bay25 then data.qty else 0) <= case.bays_25",
    )
    r(
        "psu_power",
        "PSU covers the load with 20% headroom",
        "psu.watts >= 1.2 * (cpu.tdp + gpu.tdp + gpu2.tdp) + 75",
        "--- power ---",
    )
    r(
        "pcie_power",
        "Enough PCIe 8-pin cables for the graphics cards",
        "gpu.power_8pin + gpu2.power_8pin <= psu.pcie_8pin",
    )
    r(
        "hpwr_cable",
        "12VHPWR cards need a native 12VHPWR power supply",
        "gpu.needs_12vhpwr or gpu2.needs_12vhpwr -> psu.has_12vhpwr",
    )
    r(
        "video_out",
        "A machine without a graphics card needs integrated graphics",
        "gpu == none -> cpu.igpu",
    )
    r(
        "gpu2_after_gpu",
        "The second graphics slot is used only after the first",
        "gpu2 != none -> gpu != none",
    )
    r(
        "gpu_pair_vendor",
        "Two graphics cards come from the same vendor",
        "gpu2 != none -> gpu2.vendor == gpu.vendor and abs(gpu.tdp - gpu2.tdp) <= 120",
    )
    r(
        "x16_slots",
        "A full-length slot for each graphics card",
        "count(gpu, gpu2) <= board.x16_slots",
        "--- expansion and storage ---",
    )
    r(
        "expansion_slots",
        "Cards fit in the board's slots",
        "count(gpu, gpu2, nic, nic2, raid) <= board.x16_slots + 2",
    )
    r(
        "m2_slots",
        "An M.2 slot for each NVMe drive on the board",
        "count(boot, cache, scratch) <= board.m2_slots",
    )
    r(
        "sata_ports",
        "A SATA or RAID port for each data drive",
        "data.qty + count(backup) <= board.sata_ports + raid.ports",
    )
    r(
        "sas_needs_raid",
        "SAS drives need a RAID card that speaks SAS",
        "data.interface == SAS -> raid != none and SAS in raid.interfaces",
    )
    r(
        "nic2_after_nic",
        "The second network card is added after the first",
        "nic2 != none -> nic != none",
    )
    r(
        "nic_fast_pcie",
        "25 GbE and faster cards need PCIe 4",
        "nic.speed_mbps >= 25000 -> board.pcie in {Gen4, Gen5}",
    )
    r(
        "one_extra_nvme",
        "At most one extra NVMe drive besides the boot drive",
        "at_most_one(cache, scratch)",
    )
    r(
        "storage_capacity",
        "Requested storage is installed",
        "boot.capacity_gb + cache.capacity_gb + scratch.capacity_gb\n"
        "+ data.capacity_gb * data.qty + backup.capacity_gb >= storage_tb * 1000",
    )
    r("video_or_igpu", "Some video output", "at_least_one(gpu, cpu.igpu)", "--- usage ---")
    r(
        "gaming_gpu",
        "Gaming machines get a real graphics card",
        "usage == gaming -> gpu != none and gpu.vram_gb >= 8",
    )
    r(
        "render_vram",
        "Render nodes need plenty of video memory",
        "usage == render -> gpu.vram_gb + gpu2.vram_gb >= 24",
    )
    r(
        "ai_cuda",
        "AI workstations use CUDA cards",
        "usage == ai -> gpu.vendor == Nvidia and gpu.vram_gb >= 16\n"
        "and (gpu2 == none or gpu2.vendor == Nvidia)",
    )
    r(
        "cad_cpu",
        "CAD needs cores and memory",
        "usage == cad -> cpu.cores >= 8 and memory.size_gb * memory.qty >= 32",
    )
    r(
        "office_simple",
        "Office machines stay simple",
        "usage == office -> gpu2 == none and nic2 == none and raid == none",
    )
    r(
        "server_ecc",
        "Servers run ECC memory on a managed board",
        "usage == server -> memory.ecc and board.bmc",
    )
    r(
        "server_os",
        "Server licences are sold only with server builds",
        "usage == server <-> os.server_edition",
    )
    r(
        "server_os_family",
        "Servers run a server operating system",
        "usage == server -> exactly_one(os.family == WinServer, os.family == Rhel,\n"
        "os.family == Ubuntu)",
    )
    r("remote_mgmt_bmc", "Remote management needs a BMC", "remote_mgmt -> board.bmc")
    r(
        "rgb_window",
        "RGB lighting only in a case with a window",
        "rgb -> case.window and count(front_fans.rgb, memory.rgb, cooler.rgb) >= 1",
        "--- looks and noise ---",
    )
    r("rgb_not_quiet", 'RGB builds are not sold as "silent" builds', "at_most_one(rgb, quiet)")
    r(
        "quiet_noise",
        "Quiet builds keep every fan under the noise limit",
        "quiet -> cooler.noise <= max_noise and psu.noise <= max_noise\n"
        "and (front_fans == none or front_fans.noise <= max_noise)",
    )
    r("case_color", "Case in the customer's colour", "case.color == color_pref")
    r(
        "fan_color",
        "Front fans match the case",
        "front_fans == none or front_fans.rgb or front_fans.color == case.color",
    )
    r(
        "long_warranty_psu",
        "Long warranties need an efficient PSU",
        "warranty_years >= 4 -> psu.efficiency in {Gold, Platinum, Titanium}",
    )
    r("eu_erp", "EU energy rules: no Bronze units", "region == eu -> psu.efficiency != Bronze")
    r(
        "budget_entry",
        "Entry budget caps the price",
        "budget == Entry -> total(price) <= 1200",
        "--- budget ---",
    )
    r("budget_mid", "Mid budget caps the price", "budget == Mid -> total(price) <= 2500")
    r("budget_high", "High budget caps the price", "budget == Tier.High -> total(price) <= 6000")
    r(
        "balanced_gpu",
        "No flagship GPU with a budget CPU",
        "gpu.tier == Extreme -> cpu.tier in {High, Extreme}",
    )
    r(
        "raid_iff_drives",
        "A RAID card is fitted exactly when there are two data drives or more",
        "raid != none <-> data.qty >= 2",
    )
    r(
        "raid_redundant",
        "Four or more data drives run RAID 5 or 6",
        "data.qty >= 4 -> R5 in raid.levels or R6 in raid.levels",
    )
    r(
        "mini_itx_single_gpu",
        "Mini-ITX boards take one card",
        "not (board.form == MiniITX and (gpu2 != none or nic != none))",
    )


def parameter_rules(book: RuleBook, cat: Catalogue, rng: Random) -> None:
    """Policy rules that vary a threshold by usage, budget, region or size."""
    r = book.add
    caps = {
        "office": (900, 1500, 2500, 4000),
        "gaming": (1300, 2200, 3800, 7000),
        "cad": (1500, 2800, 5000, 9000),
        "render": (2500, 4500, 8000, 15000),
        "server": (2000, 4000, 9000, 16000),
        "ai": (3000, 6000, 12000, 25000),
    }
    for usage, limits in caps.items():
        for tier, limit in zip(TIERS, limits, strict=True):
            r(
                f"price_cap_{usage}_{tier.lower()}",
                f"{tier} {usage} builds stay under {limit} EUR",
                f"usage == {usage} and budget == {tier} -> total(price) <= {limit}",
                "--- price caps ---" if (usage, tier) == ("office", "Entry") else "",
            )
    for usage in USAGES:
        for i, tier in enumerate(TIERS):
            allowed = TIERS[max(0, i - 1) : i + 2]
            r(
                f"cpu_tier_{usage}_{tier.lower()}",
                f"{tier} {usage} builds use a matching CPU class",
                f"usage == {usage} and budget == {tier} -> cpu.tier in {members(allowed)}",
                "--- tiers ---" if (usage, tier) == ("office", "Entry") else "",
            )
            if usage not in ("office", "server"):
                r(
                    f"gpu_tier_{usage}_{tier.lower()}",
                    f"{tier} {usage} builds use a matching GPU class",
                    f"usage == {usage} and budget == {tier} and gpu != none\n"
                    f"-> gpu.tier in {members(allowed)}",
                )
    for load in range(150, 1000, 50):
        watts = int(load * 1.5 + 150) // 50 * 50
        need = f"psu.watts >= {watts}"
        if load >= 400:
            need += f"\nand psu.efficiency in {members(('Gold', 'Platinum', 'Titanium'))}"
        r(
            f"gpu_power_{load}",
            f"Graphics load of {load} W or more needs a {watts} W unit",
            f"gpu.tdp + gpu2.tdp >= {load} -> {need}",
            "--- power bands ---" if load == 150 else "",
        )
    for tdp in range(95, 300, 20):
        kinds = ("Air", "AIO240", "AIO360") if tdp < 200 else ("AIO240", "AIO360")
        r(
            f"cooling_band_{tdp}",
            f"CPUs over {tdp} W get serious cooling",
            f"cpu.tdp > {tdp} -> cooler.kind in {members(kinds)} and cooler.max_tdp >= {tdp + 15}",
            "--- cooling bands ---" if tdp == 95 else "",
        )
    series = sorted({str(p.values["series"]) for p in cat.parts["CPU"]})
    for s in series:
        speed = rng.choice((3200, 5200, 5600, 6000))
        slug = s.lower().replace(" ", "_")
        r(
            f"four_dimm_speed_{slug}",
            f"{s}: four modules run at {speed} MT/s at most",
            f'cpu.series == "{s}" and memory.qty >= 3 -> memory.speed <= {speed}',
            "--- memory controller limits ---" if s == series[0] else "",
        )
    for usage in USAGES:
        limit = {"office": 30, "gaming": 36, "cad": 34, "render": 40, "server": 45, "ai": 42}[usage]
        r(
            f"quiet_{usage}",
            f"Quiet {usage} builds: fans and PSU under {limit} dBA",
            f"quiet and usage == {usage} -> psu.noise <= {limit}\n"
            f"and (front_fans == none or front_fans.noise <= {limit})\n"
            f"and (top_fans == none or top_fans.noise <= {limit})",
            "--- noise ---" if usage == "office" else "",
        )
    for years in range(2, 6):
        r(
            f"warranty_{years}y",
            f"{years}-year warranty uses parts rated for it",
            f"warranty_years >= {years} -> psu.watts * 8 / 10 >= cpu.tdp + gpu.tdp + gpu2.tdp"
            f" + {years * 25}",
            "--- warranty ---" if years == 2 else "",
        )
    region_rules = (
        (
            "us_os",
            "US builds ship with a licensed OS unless they are servers",
            "region == us -> os.family != NoOs or usage == server",
        ),
        ("uk_plug", "UK stock uses modular PSUs only", "region == uk -> psu.modular"),
        (
            "apac_server_power",
            "APAC servers need redundant headroom",
            "region == apac and usage == server -> psu.watts >= 1000",
        ),
        (
            "eu_wifi",
            "EU radio approval: WiFi boards only with Win11 or Ubuntu",
            "region == eu and board.wifi -> os.family in {Win11Home, Win11Pro, Ubuntu}",
        ),
    )
    for name, description, expr in region_rules:
        r(f"region_{name}", description, expr, "--- regions ---" if name == "us_os" else "")
    for tb in (4, 8, 16, 32, 48):
        drives = max(1, min(4, tb // 8))
        r(
            f"storage_{tb}tb",
            f"{tb} TB or more goes on data drives",
            f"storage_tb >= {tb} -> data != none and data.qty >= {drives}",
            "--- storage ---" if tb == 4 else "",
        )
    for gb in (64, 128, 256):
        r(
            f"big_memory_{gb}",
            f"{gb} GB or more needs large modules",
            f"min_ram_gb >= {gb} -> memory.size_gb >= {gb // 4} and board.ram_slots >= 4",
        )
    for usage in ("server", "render", "ai"):
        r(
            f"endurance_{usage}",
            f"{usage.capitalize()} drives are rated for heavy writes",
            f"usage == {usage} -> boot.endurance_tbw >= 600\n"
            f"and (data == none or data.endurance_tbw * data.qty >= 2000)",
        )
    for usage, base in (("office", 300), ("gaming", 550), ("cad", 450), ("render", 750)):
        r(
            f"psu_floor_{usage}",
            f"{usage.capitalize()} PSU floor",
            f"psu.watts >= (if usage == {usage} then {base} else 450) + cpu.tdp / 2",
            "--- PSU floors ---" if usage == "office" else "",
        )
    for form, n in (("MicroATX", 3), ("ATX", 4), ("EATX", 6)):
        r(
            f"cards_{form.lower()}",
            f"{form} boards take at most {n} add-in cards",
            f"board.form == {form} -> count(gpu, gpu2, nic, nic2, raid) <= {n}",
        )
    r(
        "gen5_gpu_board",
        "PCIe 5 graphics cards go on PCIe 5 boards",
        "gpu.pcie == Gen5 -> board.pcie == gpu.pcie",
        "--- PCIe ---",
    )
    r(
        "nic_pcie_gen",
        "Network cards run at the board's PCIe generation or PCIe 3",
        "nic == none or nic.pcie == board.pcie or nic.pcie == Gen3",
    )
    r(
        "cache_matches_boot",
        "Cache drive on the same PCIe generation as the boot drive",
        "cache == none or cache.pcie == boot.pcie",
    )
    r(
        "cad_outputs",
        "CAD displays need DisplayPort",
        "usage == cad and gpu != none -> DP14 in gpu.outputs or DP21 in gpu.outputs",
    )
    r(
        "flagship_cooling",
        "Flagship CPUs need liquid cooling",
        "cpu.tdp >= 170 and cpu.socket in {AM5, LGA1700, LGA1851}\n"
        "-> cooler.kind in {AIO240, AIO360}",
    )
    r(
        "color_white_memory",
        "White builds use white memory",
        "color_pref == White and case.window -> memory.color == White or memory.rgb",
    )


def sku_rules(book: RuleBook, cat: Catalogue, rng: Random, n: int) -> None:
    """Vendor errata and qualification notes: the long tail of a real product model."""
    makers: list[Callable[[], tuple[str, str, str] | None]] = []

    def cpu_vrm() -> tuple[str, str, str] | None:
        p = cat.pick(rng, "cpu", lambda p: num(p.values, "tdp") >= 120)
        if p is None:
            return None
        socket = str(p.values["socket"])
        chips = TOP_CHIPSETS[socket]
        cond = (
            f"board.chipset == {chips[0]}"
            if len(chips) == 1
            else (f"board.chipset in {members(chips)}")
        )
        return (
            f"vrm_{p.sku}",
            f"{p.name} needs a {'/'.join(chips)} board for its VRM load",
            f'cpu == "{p.sku}" -> {cond}',
        )

    def cpu_dimms() -> tuple[str, str, str] | None:
        p = cat.pick(rng, "cpu", lambda p: p.values["mem_type"] == "DDR5")
        if p is None:
            return None
        speed = rng.choice((4800, 5200, 5600))
        return (
            f"dimm_{p.sku}",
            f"{p.name} runs four DDR5 modules at {speed} MT/s at most",
            f'cpu == "{p.sku}" and memory.qty == 4 -> memory.speed <= {speed}',
        )

    def board_vrm() -> tuple[str, str, str] | None:
        p = cat.pick(
            rng, "board", lambda p: p.values["chipset"] not in TOP_CHIPSETS[str(p.values["socket"])]
        )
        if p is None:
            return None
        limit = rng.choice((65, 105, 125))
        return (
            f"bios_{p.sku}",
            f"{p.name}: BIOS limits CPUs to {limit} W",
            f'board == "{p.sku}" -> cpu.tdp <= {limit}',
        )

    def board_dimm_clearance() -> tuple[str, str, str] | None:
        p = cat.pick(rng, "board", lambda p: p.values["form"] in ("MiniITX", "MicroATX"))
        if p is None:
            return None
        return (
            f"clearance_{p.sku}",
            f"{p.name}: tall DIMMs foul tower coolers",
            f'board == "{p.sku}" and cooler.kind == Air -> memory.height_mm <= 42',
        )

    def board_slot_spacing() -> tuple[str, str, str] | None:
        p = cat.pick(rng, "board", lambda p: num(p.values, "x16_slots") >= 2)
        if p is None:
            return None
        return (
            f"spacing_{p.sku}",
            f"{p.name}: two cards need slim coolers",
            f'board == "{p.sku}" and gpu2 != none -> gpu.slots + gpu2.slots <= 5',
        )

    def case_radiator_gpu() -> tuple[str, str, str] | None:
        p = cat.pick(rng, "case", lambda p: num(p.values, "max_radiator") >= 240)
        if p is None:
            return None
        return (
            f"front_rad_{p.sku}",
            f"{p.name}: a front radiator takes 30 mm of GPU length",
            f'case == "{p.sku}" and cooler.kind in {{AIO240, AIO360}}\n'
            f"-> gpu.length_mm <= case.max_gpu_mm - 30",
        )

    def case_psu() -> tuple[str, str, str] | None:
        p = cat.pick(rng, "case", lambda p: "ATX" not in members_of(p, "forms"))
        if p is None:
            return None
        limit = rng.choice((750, 850))
        return (
            f"cables_{p.sku}",
            f"{p.name}: compact case needs a modular PSU up to {limit} W",
            f'case == "{p.sku}" -> psu.modular and psu.watts <= {limit}',
        )

    def gpu_power() -> tuple[str, str, str] | None:
        p = cat.pick(rng, "gpu2", lambda p: num(p.values, "tdp") >= 250)
        if p is None:
            return None
        watts = (num(p.values, "tdp") * 2 + 300) // 50 * 50
        return (
            f"power_{p.sku}",
            f"{p.name} is qualified with {watts} W units and up",
            f'gpu == "{p.sku}" or gpu2 == "{p.sku}" -> psu.watts >= {watts}',
        )

    def gpu_case() -> tuple[str, str, str] | None:
        p = cat.pick(rng, "gpu", lambda p: num(p.values, "slots") >= 3)
        if p is None:
            return None
        return (
            f"airflow_{p.sku}",
            f"{p.name} needs a case with good airflow",
            f'gpu == "{p.sku}" -> case.fan_slots >= 5 and front_fans.qty >= 2',
        )

    def cooler_dimm() -> tuple[str, str, str] | None:
        p = cat.pick(
            rng, "cooler", lambda p: p.values["kind"] == "Air" and num(p.values, "height_mm") >= 150
        )
        if p is None:
            return None
        return (
            f"overhang_{p.sku}",
            f"{p.name} overhangs the first DIMM slot",
            f'cooler == "{p.sku}" -> memory.height_mm <= 45',
        )

    def memory_kit() -> tuple[str, str, str] | None:
        p = cat.pick(rng, "memory", lambda p: num(p.values, "speed") >= 6400)
        if p is None:
            return None
        return (
            f"qvl_{p.sku}",
            f"{p.name} is qualified on high-end boards only",
            f'memory == "{p.sku}" -> board.max_mem_speed >= {p.values["speed"]}\n'
            f"and board.ram_slots >= 2 * memory.qty - 4",
        )

    def cpu_set() -> tuple[str, str, str] | None:
        hot = [p for p in cat.domain("cpu") if num(p.values, "tdp") >= 150]
        if len(hot) < 3:
            return None
        chosen = rng.sample(hot, 3)
        skus = ", ".join(quote(p.sku) for p in chosen)
        return (
            "hot_cpus",
            "These CPUs throttle under air coolers in small cases",
            f"cpu in {{{skus}}} and cooler.kind == Air -> case.max_cooler_mm >= 160",
        )

    makers.extend(
        (
            cpu_vrm,
            cpu_dimms,
            board_vrm,
            board_dimm_clearance,
            board_slot_spacing,
            case_radiator_gpu,
            case_psu,
            gpu_power,
            gpu_case,
            cooler_dimm,
            memory_kit,
            cpu_set,
        )
    )
    comments = {
        cpu_vrm: "--- CPU errata ---",
        board_vrm: "--- board errata ---",
        case_radiator_gpu: "--- case notes ---",
        gpu_power: "--- graphics card notes ---",
        cooler_dimm: "--- cooler and memory qualification ---",
    }
    # a block of each kind of note, as a product engineer would keep them
    per_kind = max(1, n // len(makers) + 1)
    seen: set[str] = set()
    added = 0
    for make in makers:
        first = True
        for _ in range(per_kind * 3):  # picks repeat; a repeated note is dropped
            if added >= n or added >= per_kind * (makers.index(make) + 1):
                break
            made = make()
            if made is None:
                break
            name, description, expr = made
            if expr in seen:
                continue
            seen.add(expr)
            slug = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()
            book.add(slug, description, expr, comments.get(make, "") if first else "")
            first = False
            added += 1


REFERENCE_SOURCES = (
    "vendor QVL",
    "installation guide",
    "field failure report",
    "returns analysis",
    "product management decision",
    "support ticket",
)


def reference(rng: Random) -> list[str]:
    """Where a rule comes from, as people note it above the rule."""
    source = rng.choice(REFERENCE_SOURCES)
    ticket = f"HW-{rng.randint(100, 9999)}"
    date = f"{rng.randint(2021, 2025)}-{rng.randint(1, 12):02d}"
    if rng.random() < 0.5:
        return [
            f"Source: {source}, {ticket} ({date}).",
            "Review when the affected parts leave the catalogue.",
        ]
    return [f"Source: {source}, {ticket} ({date})."]


# ---- writing the files ---------------------------------------------------------


def split_words(text: str) -> list[str]:
    """Split at spaces outside string literals; newlines in `text` force a break."""
    words: list[str] = []
    current = ""
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            current += ch
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
            current += ch
        elif ch == " ":
            if current:
                words.append(current)
            current = ""
        elif ch == "\n":
            if current:
                words.append(current)
            words.append("\n")
            current = ""
        else:
            current += ch
    if current:
        words.append(current)
    return words


def wrap(words: list[str], first_indent: str, indent: str, width: int = WIDTH) -> list[str]:
    lines: list[str] = []
    line = first_indent
    fresh = True
    for word in words:
        if word == "\n":
            lines.append(line)
            line, fresh = indent, True
            continue
        if not fresh and len(line) + 1 + len(word) > width:
            lines.append(line)
            line, fresh = indent, True
        line = line + word if fresh else f"{line} {word}"
        fresh = False
    if not fresh:
        lines.append(line)
    return lines


def ato_value(attr: Attr, value: Value, rng: Random) -> str:
    if attr.kind == "bool":
        return "true" if value else "false"
    if attr.kind == "string":
        return quote(str(value))
    if attr.kind == "enum":
        return f"{attr.enum}.{value}" if rng.random() < 0.04 else str(value)
    if attr.kind == "set":
        assert isinstance(value, tuple)
        return members(value)
    return str(value)


def csv_value(attr: Attr, value: Value) -> str:
    if attr.kind == "bool":
        return "true" if value else "false"
    if attr.kind == "set":
        assert isinstance(value, tuple)
        return "|".join(value)
    return str(value)


def type_block(t: PartType) -> list[str]:
    lines = [f"# {t.doc}"] if t.doc else []
    lines.append(f"type {t.name} {{")
    width = max(len(a.name) for a in t.attrs) + 1
    for a in t.attrs:
        text = f"  {(a.name + ':').ljust(width)} {a.type_text()}"
        if a.unit:
            text += f" unit {quote(a.unit)}"
        if a.default is not None:
            text += f" default {ato_value(a, a.default, Random(0))}"
        lines.append(text)
    lines.append("}")
    return lines


FAMILY: dict[str, Callable[[Part], str]] = {
    "CPU": lambda p: f"{p.values['series']} on {p.values['socket']}",
    "Board": lambda p: f"{p.values['chipset']} boards for {p.values['socket']}",
    "Fan": lambda p: f"{p.values['size_mm']} mm fans",
    "PSU": lambda p: f"{p.values['watts']} W units",
    "Case": lambda p: f"{p.sku.split('-')[1].capitalize()} cases",
    "GPU": lambda p: f"{p.values['vendor']} {p.values['model']}",
    "NIC": lambda p: f"{p.values['chip']} network cards",
    "Drive": lambda p: f"{p.values['interface']} {p.values['form']}",
    "RaidCard": lambda p: f"{p.values['ports']}-port controllers",
    "OsLicense": lambda p: f"{p.values['family']} licences",
}


def no_family(part: Part) -> str:
    return ""


def parts_block(t: PartType, parts: list[Part], rng: Random) -> list[str]:
    """A parts block grouped by family, each family under a comment, as catalogues are kept."""
    lines = [f"parts {t.name} {{"]
    family = FAMILY.get(t.name, no_family)
    group = ""
    for p in sorted(parts, key=lambda p: (family(p), p.sku)):
        if family(p) != group:
            if group:
                lines.append("")
            group = family(p)
            lines.append(f"  # --- {group} ---")
        assignments = []
        for a in t.attrs:
            value = p.values[a.name]
            if a.default is not None and value == a.default and rng.random() < 0.85:
                continue  # rely on the declared default, as people do
            assignments.append(f"{a.name}={ato_value(a, value, rng)},")
        if assignments:
            assignments[-1] = assignments[-1].rstrip(",")
        head = f"  {quote(p.sku)} {quote(p.name)}:" if rng.random() < 0.9 else f"  {quote(p.sku)}:"
        one_line = f"{head} {' '.join(assignments)}"
        if len(one_line) <= WIDTH:
            lines.append(one_line)
        else:
            lines.append(head)
            lines.extend(wrap(assignments, "      ", "      ", width=76))
    lines.append("}")
    return lines


def csv_text(t: PartType, parts: list[Part]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sku", "name", *(a.name for a in t.attrs)])
    for p in parts:
        writer.writerow([p.sku, p.name, *(csv_value(a, p.values[a.name]) for a in t.attrs)])
    return out.getvalue()


def component_line(c: Component) -> str:
    text = f"component {c.name}: {c.type}"
    if c.qty:
        text += f" qty {c.qty[0]}..{c.qty[1]}"
    if c.optional:
        text += " optional"
    if c.where:
        text += f" where {c.where}"
    return text


STEPS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], int, str], ...] = (
    # name, title, uses, after, minutes, when
    ("unpack", "Unpack and inspect parts", ("cpu", "board", "case"), (), 10, ""),
    ("prep_case", "Prepare case and fit standoffs", ("case",), ("unpack",), 8, ""),
    ("fit_psu", "Fit the power supply", ("psu",), ("prep_case",), 10, ""),
    ("seat_cpu", "Seat the CPU in its socket", ("cpu", "board"), ("unpack",), 5, ""),
    ("fit_memory", "Fit memory modules", ("memory",), ("seat_cpu",), 4, ""),
    ("fit_boot", "Fit the boot drive", ("boot",), ("seat_cpu",), 4, ""),
    ("fit_cache", "Fit the cache drive", ("cache",), ("fit_boot",), 4, ""),
    ("fit_scratch", "Fit the scratch drive", ("scratch",), ("fit_boot",), 4, ""),
    ("mount_cooler", "Mount the CPU cooler", ("cooler",), ("seat_cpu", "fit_memory"), 12, ""),
    (
        "board_in_case",
        "Install the motherboard in the case",
        ("board", "case"),
        ("prep_case", "mount_cooler", "fit_boot", "fit_cache", "fit_scratch"),
        12,
        "",
    ),
    (
        "mount_radiator",
        "Mount the AIO radiator",
        ("cooler",),
        ("board_in_case",),
        10,
        "cooler.kind in {AIO240, AIO360}",
    ),
    ("fit_front_fans", "Fit front fans", ("front_fans",), ("prep_case",), 6, ""),
    ("fit_top_fans", "Fit top fans", ("top_fans",), ("board_in_case", "mount_radiator"), 6, ""),
    ("fit_rear_fan", "Fit the rear fan", ("rear_fan",), ("prep_case",), 3, ""),
    ("fit_gpu", "Install the graphics card", ("gpu",), ("board_in_case",), 6, ""),
    ("fit_gpu2", "Install the second graphics card", ("gpu2",), ("fit_gpu",), 8, ""),
    ("fit_nic", "Install the network card", ("nic",), ("board_in_case",), 4, ""),
    ("fit_nic2", "Install the second network card", ("nic2",), ("fit_nic",), 4, ""),
    ("fit_raid", "Install the RAID controller", ("raid",), ("board_in_case",), 6, ""),
    ("fit_data", "Fit data drives in their bays", ("data",), ("prep_case",), 5, ""),
    ("fit_backup", "Fit the backup disk", ("backup",), ("prep_case",), 5, ""),
    (
        "cable_power",
        "Route power cables",
        ("psu", "board"),
        ("fit_psu", "board_in_case", "fit_gpu", "fit_gpu2"),
        15,
        "",
    ),
    (
        "cable_storage",
        "Connect drive cables",
        ("data", "backup", "raid"),
        ("fit_data", "fit_backup", "fit_raid", "cable_power"),
        8,
        "data != none or backup != none",
    ),
    (
        "cable_fans",
        "Connect fan headers and lighting",
        ("front_fans", "top_fans", "rear_fan"),
        ("fit_front_fans", "fit_top_fans", "fit_rear_fan", "board_in_case"),
        6,
        "",
    ),
    ("rgb_setup", "Configure the RGB controller", ("board",), ("cable_fans",), 5, "rgb"),
    (
        "bios_setup",
        "Update BIOS and enable the memory profile",
        ("board", "memory"),
        ("cable_power", "fit_nic2"),
        10,
        "",
    ),
    (
        "raid_setup",
        "Create RAID arrays",
        ("raid", "data"),
        ("cable_storage", "bios_setup"),
        15,
        "raid != none and data.qty >= 2",
    ),
    (
        "install_os",
        "Install the operating system",
        ("os", "boot"),
        ("bios_setup", "raid_setup"),
        25,
        "os.family != NoOs",
    ),
    (
        "bmc_setup",
        "Configure BMC remote management",
        ("board",),
        ("bios_setup",),
        10,
        "remote_mgmt and board.bmc",
    ),
    ("burn_in", "Burn-in test: stress CPU and GPU", ("cpu", "gpu"), ("install_os",), 60, ""),
    (
        "final_qa",
        "Final inspection and packing",
        ("case",),
        ("burn_in", "bmc_setup", "rgb_setup"),
        15,
        "",
    ),
)


def step_lines(
    steps: list[tuple[str, str, tuple[str, ...], tuple[str, ...], int, str]],
) -> list[str]:
    lines = []
    for name, title, uses, after, minutes, when in steps:
        clauses = [f"uses {', '.join(uses)}"]
        if after:
            clauses.append(f"after {', '.join(after)}")
        clauses.append(f"minutes {minutes}")
        if when:
            clauses.append(f"when {when}")
        text = f"step {name} {quote(title)}: {'; '.join(clauses)}"
        if len(text) <= WIDTH:
            lines.append(text)
        else:
            lines.append(f"step {name} {quote(title)}:")
            lines.append("  " + ";\n  ".join(clauses))
    return lines


def extra_steps(
    rng: Random, n: int
) -> list[tuple[str, str, tuple[str, ...], tuple[str, ...], int, str]]:
    """Inspection points between the standard steps, for products bigger than usual."""
    names = [s[0] for s in STEPS]
    extra: list[tuple[str, str, tuple[str, ...], tuple[str, ...], int, str]] = []
    for i in range(n):
        before = names[: len(STEPS) - 1]
        after = tuple(sorted(set(rng.sample(before, 2)), key=names.index))
        uses = (rng.choice([c.name for c in COMPONENTS]),)
        name = f"inspect_{i + 1:03d}"
        extra.append((name, f"Inspection point {i + 1}", uses, after, rng.randint(2, 8), ""))
        names.append(name)
    return extra


def test_blocks(cat: Catalogue, rng: Random, n: int) -> list[str]:
    lines: list[str] = []
    titles: list[str] = []
    for i in range(n):
        usage = USAGES[i % len(USAGES)]
        sockets = SERVER_SOCKETS if usage == "server" else DESKTOP_SOCKETS
        cpus = [p for p in cat.domain("cpu") if p.values["socket"] in sockets]
        cpu = rng.choice(cpus or cat.domain("cpu"))  # small products may lack a family
        socket, mem = cpu.values["socket"], cpu.values["mem_type"]
        boards = [
            p
            for p in cat.domain("board")
            if p.values["socket"] == socket and p.values["mem_type"] == mem
        ]
        board = rng.choice(boards) if boards else None
        ecc = usage == "server"
        modules = [
            p
            for p in cat.domain("memory")
            if p.values["mem_type"] == mem and p.values["ecc"] == ecc
        ]
        memory = rng.choice(modules) if modules else None
        given = [f"usage = {usage}"]
        if rng.random() < 0.5:
            tier = rng.choice(TIERS)
            given.append(f"budget = {tier}" if rng.random() < 0.7 else f"budget = Tier.{tier}")
        if rng.random() < 0.3:
            given.append(f"region = {rng.choice(REGIONS)}")
        if rng.random() < 0.3:
            given.append(f"warranty_years = {rng.randint(1, 5)}")
        given.append(f"cpu = {quote(cpu.sku)}")
        if board is not None:
            given.append(f"board = {quote(board.sku)}")
        if memory is not None:
            given.append(f"memory = {quote(memory.sku)}")
            slots = 2 if board is None else num(board.values, "ram_slots")
            given.append(f"memory.qty = {rng.choice([q for q in (1, 2, 2, 4) if q <= slots])}")
        if usage in ("office", "server") and rng.random() < 0.5:
            given.append("gpu = none")
        elif usage in ("gaming", "render", "ai"):
            gpu = cat.pick(rng, "gpu", lambda p: num(p.values, "vram_gb") >= 12)
            if gpu is not None:
                given.append(f"gpu = {quote(gpu.sku)}")
        if usage in ("server", "render") and rng.random() < 0.6:
            drive = cat.pick(rng, "data", lambda p: True)
            if drive is not None:
                given.append(f"data = {quote(drive.sku)}")
                given.append(f"data.qty = {rng.randint(1, 4)}")
        if rng.random() < 0.25:
            given.append(f"rgb = {rng.choice(('true', 'false'))}")
        if rng.random() < 0.3:
            given.append(f"color_pref = {rng.choice(LIBRARY_ENUMS['Color'])}")
        title = f"{usage} build on {cpu.name}" + (f" and {board.name}" if board else "")
        if title in titles:
            title = f"{title} ({sum(t.startswith(title) for t in titles) + 1})"
        titles.append(title)
        lines.append(f"test {quote(title)} {{")
        lines.append("  given {")
        lines.extend(f"    {g}," for g in given)
        lines.append("  }")
        lines.append("  expect valid")
        checks = [
            "cpu.socket == board.socket",
            "memory.qty <= board.ram_slots",
            "psu.watts >= cpu.tdp",
            "total(price) > 0",
            "cooler.max_tdp >= cpu.tdp",
            "memory.mem_type == cpu.mem_type",
            "board.form in case.forms",
        ]
        if usage == "gaming":
            checks.append("gpu != none and gpu.vram_gb >= 8")
        if usage == "server":
            checks.append("memory.ecc")
        for check in rng.sample(checks, 3):
            lines.append(f"  expect {check}")
        lines.append("}")
        lines.append("")
    return lines


@dataclass
class Generated:
    product: Path
    files: list[Path]
    lines: int
    skus: int
    rules: int
    steps: int
    tests: int


def generate(directory: Path, lines: int, seed: int) -> Generated:
    """Write the product, its library and its CSV parts; close to `lines` lines in all."""
    scale = lines / 10_000
    result = _generate(directory, scale, seed)
    # one correction: the share of fixed text (types, steps, core rules) is not linear
    if result.lines:
        scale *= lines / result.lines
        result = _generate(directory, scale, seed)
    return result


def _generate(directory: Path, scale: float, seed: int) -> Generated:
    rng = Random(seed)
    n_skus = max(60, round(2000 * scale))
    n_rules = max(80, round(500 * scale))
    n_tests = max(6, round(50 * scale))
    n_extra_steps = max(0, round(30 * scale) - len(STEPS))

    parts: dict[str, list[Part]] = {}
    for t in TYPES:
        count = max(6, round(n_skus * SKU_SHARE[t.name]))
        parts[t.name] = GENERATORS[t.name](Random(f"{seed}:{t.name}"), count)
    cat = Catalogue(parts)

    book = RuleBook()
    core_rules(book)
    parameter_rules(book, cat, rng)
    if len(book.rules) < n_rules:
        sku_rules(book, cat, rng, n_rules - len(book.rules))
    book.rules = book.rules[:n_rules]

    library = [
        "# Shared declarations for all built-to-order PC products.",
        "# Owned by the platform team; products import this file.",
        "",
    ]
    for name, items in LIBRARY_ENUMS.items():
        library.append(f"enum {name} {{ {', '.join(items)} }}")
    library.append("")
    for t in TYPES:
        if t.library:
            library.extend(type_block(t))
            library.append("")

    product = [
        "# Workstations and servers, built to order.",
        "# Part data: inline below, or from parts/*.csv (exported from the ERP).",
        "",
        'product workstation "Workstation and Server Builder"',
        'import "lib/pc_common.ato"',
        "",
    ]
    for name, items in PRODUCT_ENUMS.items():
        text = f"enum {name} {{ {', '.join(items)} }}"
        product.extend(wrap(split_words(text), "", "  ") if len(text) > WIDTH else [text])
    product.append("")
    for t in TYPES:
        if not t.library:
            product.extend(type_block(t))
            product.append("")
    files: dict[str, str] = {}
    for t in TYPES:
        if t.csv_file:
            product.append(f"parts {t.name} from {quote(t.csv_file)}")
            files[t.csv_file] = csv_text(t, parts[t.name])
    product.append("")
    for t in TYPES:
        if not t.csv_file:
            product.extend(parts_block(t, parts[t.name], rng))
            product.append("")
    product.append("# ---- what a machine is made of ----")
    product.extend(component_line(c) for c in COMPONENTS)
    product.append("")
    product.append("# ---- what the customer chooses ----")
    product.extend(OPTIONS_TEXT.splitlines())
    product.append("")
    product.append("# ---- compatibility and policy ----")
    for rule in book.rules:
        product.append("")
        if rule.comment:
            product.append(f"# {rule.comment}")
            product.append("")
        if rng.random() < 0.5:
            product.extend(f"# {line}" for line in reference(rng))
        product.append(f"rule {rule.name} {quote(rule.description)}:")
        # the condition on one line, what it requires on the next
        expr = rule.expr.replace(" -> ", "\n-> ", 1) if len(rule.expr) > 40 else rule.expr
        product.extend(wrap(split_words(expr), "  ", "    "))
    product.append("")
    product.append("# ---- assembly ----")
    steps = list(STEPS) + extra_steps(rng, n_extra_steps)
    product.extend(step_lines(steps))
    product.append("")
    product.append("# ---- tests ----")
    product.extend(test_blocks(cat, rng, n_tests))

    files["workstation.ato"] = "\n".join(product) + "\n"
    files["lib/pc_common.ato"] = "\n".join(library) + "\n"
    paths = []
    total_lines = 0
    for rel, text in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
        total_lines += text.count("\n")
    return Generated(
        product=directory / "workstation.ato",
        files=paths,
        lines=total_lines,
        skus=sum(len(v) for v in parts.values()),
        rules=len(book.rules),
        steps=len(steps),
        tests=n_tests,
    )


# ---- measuring -----------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def tokenize(files: list[Path]) -> int:
    tokens = 0
    for path in files:
        tokens += len(TOKEN_RE.findall(path.read_text(encoding="utf-8")))
    return tokens


def max_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1e6 if sys.platform == "darwin" else rss * 1024 / 1e6  # bytes vs KiB


def print_errors(exc: Exception) -> None:
    diagnostics = list(getattr(exc, "diagnostics", []))
    errors = [d for d in diagnostics if str(getattr(d, "severity", "error")) == "error"]
    print(f"load FAILED: {len(errors)} error(s), {len(diagnostics)} diagnostic(s)")
    for d in (errors or diagnostics)[:15]:
        print(f"  {d.span or '-'}: {d.code} {d.message}")
        if getattr(d, "hint", None):
            print(f"      hint: {d.hint}")


def measure(generated: Generated, runs: int) -> int:
    base_times = [timed(lambda: tokenize(generated.files))[0] for _ in range(runs)]
    tokens = tokenize(generated.files)
    baseline = min(base_times)

    start = time.perf_counter()
    import atoconf

    import_s = time.perf_counter() - start
    load = getattr(atoconf, "load", None)
    if load is None:
        print("atoconf.load does not exist yet: nothing to measure")
        return 2
    error_type: type[Exception] = getattr(atoconf, "RuleError", Exception)
    path = str(generated.product)
    try:
        cold, _ = timed(lambda: load(path))
        warm = []
        for _ in range(runs):
            gc.collect()
            seconds, _ = timed(lambda: load(path))
            warm.append(seconds)
    except error_type as exc:
        print_errors(exc)
        print("(run with --keep DIR to inspect the generated files)")
        return 2
    except Exception:  # a crash inside atoconf: show it, it is the finding
        traceback.print_exc()
        print("load CRASHED (see the traceback above)")
        return 2
    best = min(warm)

    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    model = load(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del model
    peak_mb = peak / 1e6
    rss = max_rss_mb()

    rows = [
        ("lines", f"{generated.lines:,}"),
        ("SKUs", f"{generated.skus:,}"),
        ("rules", f"{generated.rules:,}"),
        ("steps / tests", f"{generated.steps} / {generated.tests}"),
        ("tokens", f"{tokens:,}"),
        ("tokenize baseline s", f"{baseline:.4f}"),
        ("import atoconf s", f"{import_s:.3f}"),
        ("cold load s", f"{cold:.3f}"),
        (f"warm load s (best of {runs})", f"{best:.3f}"),
        ("ratio to baseline", f"{best / baseline:.0f}x"),
        ("lines per second", f"{generated.lines / best:,.0f}"),
        ("peak MB (tracemalloc)", f"{peak_mb:.1f}"),
        ("max RSS MB (process)", "n/a" if rss is None else f"{rss:.1f}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"atoconf {getattr(atoconf, '__version__', '?')}, Python {sys.version.split()[0]}")
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value:>10}")
    verdict = "PASS" if best < GOAL_LOAD_S else "FAIL"
    print(f"goal: load < {GOAL_LOAD_S:.1f} s  -> {verdict}")
    verdict = "PASS" if peak_mb < GOAL_PEAK_MB else "FAIL"
    print(f"goal: peak < {GOAL_PEAK_MB:.0f} MB -> {verdict}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=10_000, help="size of the product (lines)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generator")
    parser.add_argument(
        "--keep", metavar="DIR", type=Path, help="write the generated product to DIR and keep it"
    )
    parser.add_argument("--runs", type=int, default=5, help="warm runs; the best is reported")
    args = parser.parse_args(argv)
    if args.lines < 2000:  # below this the fixed declarations dominate the size
        parser.error("--lines must be at least 2000")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        generated = generate(args.keep, args.lines, args.seed)
        print(f"product written to {generated.product}")
        return measure(generated, max(1, args.runs))
    with tempfile.TemporaryDirectory(prefix="atoconf-bench-") as tmp:
        generated = generate(Path(tmp), args.lines, args.seed)
        return measure(generated, max(1, args.runs))


if __name__ == "__main__":
    sys.exit(main())
