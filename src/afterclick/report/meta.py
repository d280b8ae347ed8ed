"""What the report says about its data: where it came from, which period, how much of it."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from afterclick.core.format import format_cell, format_period, format_when


@dataclass(frozen=True)
class ReportMeta:
    """What the report says about its data: where it came from, which period, how much of it.

    ``period_end`` is exclusive, as in ``Params`` (a midnight end shows as the day before).
    ``row_counts`` maps a canonical table to its rows in the store. ``generated_at`` defaults to
    now and ``version`` to the installed afterclick version. ``extra`` holds any other facts to
    list under the coverage (label → value).
    """

    store: str | None = None
    period_start: Any = None
    period_end: Any = None
    row_counts: Mapping[str, int] = field(default_factory=dict)
    generated_at: datetime | None = None
    version: str | None = None
    currency: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    _ALIASES = {
        "store_path": "store", "path": "store", "start": "period_start", "end": "period_end",
        "rows": "row_counts", "counts": "row_counts", "tables": "row_counts",
    }

    @classmethod
    def coerce(cls, meta: ReportMeta | Mapping[str, Any] | None) -> ReportMeta:
        """A ``ReportMeta`` from itself, a dict (aliases such as ``start``/``end`` accepted) or None."""
        if meta is None:
            return cls()
        if isinstance(meta, ReportMeta):
            return meta
        if not isinstance(meta, Mapping):
            raise TypeError(f"meta must be a ReportMeta or a dict, not {type(meta).__name__}")
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        extra = dict(meta.get("extra") or {})
        for key, value in meta.items():
            if key == "extra":
                continue
            name = cls._ALIASES.get(key, key)
            if name in known:
                kwargs[name] = value
            else:
                extra[key] = value
        return cls(**kwargs, extra=extra)


def meta_view(meta: ReportMeta) -> dict[str, Any]:
    generated = meta.generated_at or datetime.now(UTC)
    return {
        "store": meta.store,
        "period": format_period(meta.period_start, meta.period_end),
        "generated": format_when(generated, with_time=True),
        "version": meta.version or _afterclick_version(),
        "row_counts": [(str(t), format_cell(n, "count")) for t, n in meta.row_counts.items()],
        "extra": [(str(k).replace("_", " "), v if isinstance(v, str) else format_cell(v))
                  for k, v in meta.extra.items()],
    }



def _afterclick_version() -> str:
    try:
        return importlib.metadata.version("afterclick")
    except importlib.metadata.PackageNotFoundError:
        import afterclick

        return str(getattr(afterclick, "__version__", "unknown"))
