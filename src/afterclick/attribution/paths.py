"""Aggregated conversion paths: the ChannelAttribution format, checked and parsed once.

A *path* is one journey's ordered touches, written ``"email > social > search"``. The
aggregated format (ChannelAttribution, Altomare & Loris 2022) holds one row per distinct path:
``path``, ``total_conversions``, ``total_conversion_value`` and ``total_null`` (journeys of
that path that did not convert). :func:`aggregate_paths` builds it from one row per touch;
:func:`parse_paths` turns it into integer arrays the models share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SEP = " > "
PATH, CONVERSIONS, VALUE, NULL = "path", "total_conversions", "total_conversion_value", "total_null"


@dataclass(frozen=True)
class PathSet:
    """Distinct paths as flat integer codes (CSR-like), with their outcomes.

    ``codes[starts[i]:starts[i + 1]]`` are path ``i``'s channel codes, indices into
    ``channels`` (sorted names). ``value`` is ``None`` when the input had no value column.
    """

    channels: np.ndarray
    codes: np.ndarray
    starts: np.ndarray
    conversions: np.ndarray
    value: np.ndarray | None
    null: np.ndarray

    @property
    def n_paths(self) -> int:
        return len(self.conversions)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    @property
    def path_of_touch(self) -> np.ndarray:
        """For each touch in ``codes``, the index of its path."""
        return np.repeat(np.arange(self.n_paths), self.lengths)

    @property
    def first(self) -> np.ndarray:
        return self.codes[self.starts[:-1]]

    @property
    def last(self) -> np.ndarray:
        return self.codes[self.starts[1:] - 1]


def check_paths(paths: pd.DataFrame, *, where: str = "paths") -> None:
    """Raise one clear ``ValueError`` if ``paths`` is not in the aggregated path format."""
    if not isinstance(paths, pd.DataFrame):
        raise TypeError(f"{where}: expected a pandas DataFrame with columns {PATH!r} and {CONVERSIONS!r}, "
                        f"got {type(paths).__name__}")
    missing = [c for c in (PATH, CONVERSIONS) if c not in paths.columns]
    if missing:
        raise ValueError(f"{where}: required column(s) {missing} missing; the ChannelAttribution format has "
                         f"{PATH}, {CONVERSIONS}, {VALUE}, {NULL}")
    for col in (CONVERSIONS, VALUE, NULL):
        if col not in paths.columns:
            continue
        s = pd.to_numeric(paths[col], errors="coerce")
        bad = s.isna() | (s < 0) | ~np.isfinite(s.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"{where}: column {col!r} must hold numbers >= 0; row {row} has "
                             f"{paths[col].iloc[row]!r}")
    text = paths[PATH]
    empty = text.isna() | (text.astype(str).str.strip() == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0])
        raise ValueError(f"{where}: row {row} has an empty path; drop journeys without touches first")


def parse_paths(paths: pd.DataFrame, *, sep: str = SEP, where: str = "paths") -> PathSet:
    """Check and parse aggregated paths (channel names are stripped of surrounding spaces)."""
    check_paths(paths, where=where)
    # ">" without spaces is ChannelAttribution's default separator as well; split on the bare
    # symbol and strip, so "a>b" and "a > b" read alike
    symbol = sep.strip() or sep
    split = [[c.strip() for c in str(p).split(symbol)] for p in paths[PATH]]
    lengths = np.fromiter((len(s) for s in split), dtype=np.int64, count=len(split))
    flat = [c for s in split for c in s]
    if any(c == "" for c in flat):
        row = next(i for i, s in enumerate(split) if "" in s)
        raise ValueError(f"{where}: row {row} path {paths[PATH].iloc[row]!r} has an empty channel between "
                         f"separators {sep!r}")
    channels, codes = np.unique(np.asarray(flat, dtype=object), return_inverse=True)
    starts = np.concatenate(([0], np.cumsum(lengths)))
    conv = paths[CONVERSIONS].to_numpy(dtype=float)
    value = paths[VALUE].to_numpy(dtype=float) if VALUE in paths.columns else None
    null = paths[NULL].to_numpy(dtype=float) if NULL in paths.columns else np.zeros(len(paths))
    return PathSet(channels=channels.astype(str), codes=codes.astype(np.int64), starts=starts,
                   conversions=conv, value=value, null=null)


def credit_frame(ps: PathSet, conversions: np.ndarray, value: np.ndarray | None, **extra: np.ndarray) -> pd.DataFrame:
    """One row per channel (sorted by name): channel, conversions, value (if known), extras."""
    out = pd.DataFrame({"channel": ps.channels, "conversions": conversions})
    if value is not None:
        out["value"] = value
    for name, col in extra.items():
        out[name] = col
    return out


def journey_paths(
    touches: pd.DataFrame,
    *,
    journey: str = "journey_id",
    channel: str = "channel",
    order: str | None = "position",
    converted: str = "converted",
    value: str | None = "value",
) -> PathSet:
    """One row per touch → the distinct paths with their outcomes, as a :class:`PathSet`.

    ``touches`` has a journey id, the touch's channel (or campaign, content…), a column to order
    the touches by (``None``: rows are already in order, each journey's rows together), and per
    journey ``converted`` (0/1, repeated on each of its touches) and optionally ``value`` (the
    conversion's value). Identical paths are found on integer codes, journeys grouped by
    length: no string is built per journey, and channel names may hold any character.
    """
    need = [journey, channel, converted] + [c for c in (order, value) if c]
    missing = [c for c in need if c not in touches.columns]
    if missing:
        raise ValueError(f"touches: required column(s) {missing} missing (have {list(touches.columns)})")
    if touches[channel].isna().any():
        raise ValueError(f"touches: column {channel!r} has missing values; drop or label those touches first")
    df = touches
    if order is not None:
        df = df.sort_values([journey, order], kind="stable")
    # hash-based codes (pd.factorize), renumbered so codes follow the sorted channel names
    ch, names = pd.factorize(df[channel].astype(str), sort=True)
    names = np.asarray(names, dtype=object)
    keys, distinct = pd.factorize(df[journey])
    jstart = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if len(keys) else np.zeros(0, int)
    if len(jstart) != len(distinct):
        raise ValueError("touches: with order=None the rows of each journey must be contiguous")
    jlen = np.diff(np.append(jstart, len(df)))
    conv = df[converted].to_numpy(dtype=float)[jstart]
    if np.any((conv != 0) & (conv != 1)):
        raise ValueError(f"touches: column {converted!r} must be 0 or 1 per journey")
    val = df[value].to_numpy(dtype=float)[jstart] if value else None
    if val is not None:
        val = np.where(conv == 1, np.nan_to_num(val, nan=0.0), 0.0)
    paths, conv_out, val_out, null_out = [], [], [], []
    for length in np.unique(jlen):
        sel = np.flatnonzero(jlen == length)
        mat = ch[jstart[sel][:, None] + np.arange(length)[None, :]]
        uniq, inverse = _unique_rows(mat, len(names))
        n = len(uniq)
        paths.append(uniq.ravel())
        conv_out.append(np.bincount(inverse, weights=conv[sel], minlength=n))
        null_out.append(np.bincount(inverse, weights=1.0 - conv[sel], minlength=n))
        if val is not None:
            val_out.append(np.bincount(inverse, weights=val[sel], minlength=n))
    lengths = np.concatenate([np.full(len(c), L) for c, L in zip(conv_out, np.unique(jlen), strict=True)]) \
        if conv_out else np.zeros(0, dtype=np.int64)
    cat = (lambda parts: np.concatenate(parts) if parts else np.zeros(0))
    return PathSet(channels=names.astype(str), codes=cat(paths).astype(np.int64),
                   starts=np.concatenate(([0], np.cumsum(lengths))).astype(np.int64),
                   conversions=cat(conv_out), value=cat(val_out) if val is not None else None,
                   null=cat(null_out))


def _unique_rows(mat: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of an integer matrix and each row's index among them: one int64 key per
    row and a hash table when the keys fit, else a (slower) sort of the rows."""
    length = mat.shape[1]
    if length * np.log2(max(base, 2)) < 62:
        weights = np.int64(max(base, 2)) ** np.arange(length - 1, -1, -1, dtype=np.int64)
        inverse, keys = pd.factorize(mat.astype(np.int64) @ weights)
        some = np.zeros(len(keys), dtype=np.int64)
        some[inverse] = np.arange(len(inverse))  # any row of a key will do: they are equal
        return mat[some], inverse
    uniq, inverse = np.unique(mat, axis=0, return_inverse=True)
    return uniq, inverse.ravel()


def paths_frame(ps: PathSet, *, sep: str = SEP) -> pd.DataFrame:
    """A :class:`PathSet` in the aggregated path format, one row per path, sorted by path."""
    clash = [n for n in ps.channels if sep.strip() and sep.strip() in n]
    if clash:
        raise ValueError(f"channel {clash[0]!r} contains the path separator {sep.strip()!r}; rename it "
                         "or choose another sep")
    names = ps.channels.astype(object)
    out = pd.DataFrame({
        PATH: [sep.join(names[ps.codes[a:b]]) for a, b in zip(ps.starts[:-1], ps.starts[1:], strict=True)],
        CONVERSIONS: ps.conversions,
        **({VALUE: ps.value} if ps.value is not None else {}),
        NULL: ps.null,
    })
    return out.sort_values(PATH, kind="stable").reset_index(drop=True)


def aggregate_paths(touches: pd.DataFrame, *, sep: str = SEP, **columns: str | None) -> pd.DataFrame:
    """One row per touch → the aggregated path format (``path``, ``total_conversions``,
    ``total_conversion_value``, ``total_null``): :func:`journey_paths`, then strings once per
    distinct path. ``columns`` name the touch columns as in :func:`journey_paths`."""
    return paths_frame(journey_paths(touches, **columns), sep=sep)
