"""The declared columns of every KPI's rows, read from ``rows.toml`` (a catalogue, kept as data).

``KPI.rows_schema`` reads it; ``problems()`` lists every entry that names an unknown KPI, role
or unit, so a typo is one clear line rather than a silent gap.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from afterclick.results import Column, Role, RowsSchema, Unit

CATALOGUE = Path(__file__).with_name("rows.toml")
GRAINS = ("week", "month", "grain")


@functools.cache
def _raw() -> dict:
    with CATALOGUE.open("rb") as f:
        return tomllib.load(f)


@functools.cache
def schemas() -> dict[str, RowsSchema]:
    """KPI id → its RowsSchema (entries with a problem are left out; see :func:`problems`)."""
    out = {}
    for kpi_id, entry in _raw().items():
        try:
            out[kpi_id] = _schema(entry)
        except (KeyError, ValueError, TypeError):
            continue
    return out


def _schema(entry: dict) -> RowsSchema:
    cols = tuple(Column(c["name"], Role(c["role"]), Unit(c["unit"]) if "unit" in c else None,
                        bool(c.get("optional", False))) for c in entry["columns"])
    grain = entry.get("grain")
    if grain is not None and grain not in GRAINS:
        raise ValueError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    return RowsSchema(cols, grain)


def problems(known_ids: set[str]) -> list[str]:
    """Every problem of the catalogue, one line each: "rows.toml [reach.ctr]: ...". """
    out = []
    for kpi_id, entry in _raw().items():
        where = f"{CATALOGUE.name} [{kpi_id}]"
        if kpi_id not in known_ids:
            out.append(f"{where}: no KPI has this id")
        try:
            schema = _schema(entry)
        except (KeyError, ValueError, TypeError) as exc:
            out.append(f"{where}: {exc}")
            continue
        if schema.grain is None and any(c.role is Role.PERIOD for c in schema.columns):
            out.append(f"{where}: a period column needs the grain of the rows")
    return out
