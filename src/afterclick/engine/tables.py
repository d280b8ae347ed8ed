"""The tables a KPI reads, and the building blocks several KPIs share (:func:`block`), each built
once per (block, arguments, values of the parameters it read): the cache key is made, never
written by hand."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import fields, replace
from typing import Any

import ibis
import pandas as pd

from afterclick.engine.params import Params
from afterclick.store.keys import KEYED_COLUMNS

_PARAM_FIELDS = frozenset(f.name for f in fields(Params))


class _Watched(Params):
    """Params that note which of their fields a building block reads: the block's cache key is
    then (block, its arguments, the values of those fields), made without anyone writing it.

    Fields set through :meth:`with_` inside the block are the block's own choice, not a read.
    """

    def __getattribute__(self, name: str) -> Any:
        if name in _PARAM_FIELDS and name not in object.__getattribute__(self, "_set"):
            object.__getattribute__(self, "_reads").add(name)
        return object.__getattribute__(self, name)

    def with_(self, **changes: Any) -> Params:
        plain = replace(unwatched(self), **changes)
        return _watch(plain, object.__getattribute__(self, "_reads"),
                      object.__getattribute__(self, "_set") | changes.keys())

    def note(self, names: Iterable[str]) -> None:
        """Count ``names`` as read (those a nested block read)."""
        object.__getattribute__(self, "_reads").update(set(names) - object.__getattribute__(self, "_set"))


def _watch(p: Params, reads: set[str], given: frozenset[str] | set[str] = frozenset()) -> _Watched:
    w = object.__new__(_Watched)
    w.__dict__.update(unwatched(p).__dict__)
    object.__setattr__(w, "_reads", reads)
    object.__setattr__(w, "_set", frozenset(given))
    return w


def unwatched(p: Params) -> Params:
    """The plain :class:`Params` behind ``p`` (``p`` itself when it is not being watched)."""
    if type(p) is Params:
        return p
    plain = object.__new__(Params)
    plain.__dict__.update({name: object.__getattribute__(p, name) for name in _PARAM_FIELDS})
    return plain


class Tables(Mapping[str, ibis.Table]):
    """The canonical tables available to a KPI (only those present and non-empty).

    It also holds the building blocks several KPIs share (sessions, customer-periods, the data's
    time bounds…, declared with :func:`block`): each is built once per (block, arguments, values
    of the parameters it read), and when the workspace passes ``materialize`` (e.g. Ibis
    ``.cache()``), computed once on the backend for every KPI.
    """

    def __init__(self, tables: Mapping[str, ibis.Table],
                 materialize: Callable[[ibis.Table], ibis.Table] | None = None,
                 ids: ibis.Table | None = None):
        self._tables = dict(tables)
        self._materialize = materialize
        #: The store's customer keys (customer_id, customer_key) when the tables' ``customer_id``
        #: holds the integer key (``Store.kpi_tables``); None when it holds the ids' text.
        self.ids = ids
        self._shared: dict[Any, ibis.Table] = {}
        self._memo: dict[Any, Any] = {}
        #: (block, arguments) -> [(the parameter values it read, what it built)]
        self._blocks: dict[tuple[Any, tuple], list[tuple[dict[str, Any], Any]]] = {}

    def cached(self, what: Any, p: Params, build: Callable[[Params], Any], args: tuple = (),
               table: bool = True) -> Any:
        """What ``build(p)`` returns, built once for every ``p`` that agrees on the fields it read.

        ``what`` names the block (its function), ``args`` its other arguments (hashable); the
        parameters ``build`` reads are noted as it runs, and become the rest of the key. A table
        is materialized (see the class); ``table=False`` keeps a Python result (a fitted model).
        """
        plain = unwatched(p)
        entries = self._blocks.setdefault((what, args), [])
        for reads, built in entries:
            if all(getattr(plain, name) == value for name, value in reads.items()):
                break
        else:
            watched = _watch(plain, set())
            built = build(watched)
            if table and self._materialize:
                built = self._materialize(built)
            reads = {name: getattr(plain, name) for name in object.__getattribute__(watched, "_reads")}
            entries.append((reads, built))
        if isinstance(p, _Watched):  # a block inside a block: the outer one read these too
            p.note(reads)
        return built

    def fitted(self, what: Any, p: Params, source: Callable[[Tables, Params], Any],
               build: Callable[[], Any]) -> Any:
        """A Python-side result (a fitted model) built once from the executed rows of
        ``source(t, p)``: keyed by ``what`` and the parameters ``source`` reads, as a block is.
        For ``Computation.finish`` steps only: KPI expressions stay pure Ibis."""
        return self.cached(what, p, lambda watched: (source(self, watched), build())[1], table=False)

    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        """Deprecated: a hand-keyed Python-side result; use :func:`block` with ``table=False``."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def shared(self, key: Any, build: Callable[[], ibis.Table]) -> ibis.Table:
        """Deprecated: a hand-keyed building block (``key`` must name every parameter it
        depends on); use :func:`block`, whose key is made from what it reads."""
        if key not in self._shared:
            expr = build()
            self._shared[key] = self._materialize(expr) if self._materialize else expr
        return self._shared[key]

    def customer_ids(self, column: pd.Series) -> pd.Series:
        """``column`` of executed customer keys as the customers' ids (itself when the tables
        hold the ids' text): what a KPI's rows show and export."""
        if self.ids is None or not pd.api.types.is_integer_dtype(column.dtype):
            return column
        wanted = ibis.memtable(pd.DataFrame({"customer_key": pd.unique(column.dropna())}))
        found = self.ids.inner_join(wanted, "customer_key").select("customer_key", "customer_id").execute()
        named = pd.Series(found.customer_id.to_numpy(), index=found.customer_key.to_numpy())
        return pd.Series(named.reindex(column.to_numpy()).to_numpy(), index=column.index, name=column.name)

    def frame(self, name: str) -> pd.DataFrame:
        """Table ``name`` executed, its customers named by id."""
        df = self[name].execute()
        person = KEYED_COLUMNS.get(name)
        if person in df.columns:
            df[person] = self.customer_ids(df[person])
        return df

    def customer_keyed(self, table: ibis.Table, column: str = "customer_id") -> ibis.Table:
        """``table`` (the caller's, naming customers by id in ``column``) with ``column`` holding
        the customers' keys, as the tables do (ids the store has never seen are dropped: no KPI
        row can name them)."""
        if self.ids is None or not table[column].type().is_string():
            return table
        k = self.ids
        j = table.inner_join(k, table[column] == k.customer_id)
        return j.select(*[k.customer_key.name(c) if c == column else table[c] for c in table.columns])

    def release(self) -> None:
        """Drop materialized building blocks (they live as temporary tables on the backend)."""
        built = [b for entries in self._blocks.values() for _, b in entries]
        for expr in (*self._shared.values(), *built):
            release = getattr(expr, "release", None)
            if self._materialize and isinstance(expr, ibis.Table) and release:
                try:
                    release()
                except Exception:  # already gone with its connection
                    pass
        self._shared.clear()
        self._memo.clear()
        self._blocks.clear()

    def replace(self, name: str, table: ibis.Table | None) -> None:
        """Swap in a fresh copy of one table (``None`` removes it); building blocks stay."""
        if table is None:
            self._tables.pop(name, None)
        else:
            self._tables[name] = table

    def __getitem__(self, name: str) -> ibis.Table:
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(f"table {name!r} is not available") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


def block(fn: Callable[..., Any] | None = None, *, table: bool = True) -> Any:
    """Declare a building block ``fn(t: Tables, p: Params, *args)`` that several KPIs share.

    It is built once per workspace for each set of arguments and of values of the parameters it
    (and the blocks it calls) actually reads: the cache key is made, never written by hand.
    ``table=False`` for a Python-side result (e.g. a fitted model), which is not materialized.
    """

    def wrap(f: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(f)

        @functools.wraps(f)
        def shared(t: Tables, p: Params, *args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(t, p, *args, **kwargs)
            bound.apply_defaults()
            rest = tuple(bound.arguments.values())[2:]
            return t.cached(f, p, lambda watched: f(t, watched, *rest), args=rest, table=table)

        return shared

    return wrap(fn) if fn is not None else wrap
