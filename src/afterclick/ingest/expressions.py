"""Mapping expressions: a source column, or a small SQL expression over a file's columns.

A mapping may give a canonical column as ``amount = "sum(Quantity * UnitPrice)"``, a filter as
``where = "order_status NOT IN ('canceled', 'unavailable')"`` or a lookup's match as
``match = "ord.customer_id"``. Expressions are parsed with sqlglot (DuckDB's dialect) and checked
against a closed list of operators and functions *before any file is read*: no subqueries, no
table functions, nothing that reads or writes a file, so a mapping can only name the files it
lists. Column references are the file's columns (double-quote names with spaces: ``"Order Date"``)
or ``alias.column`` of a declared lookup.

Files are read as text, so a column used as a number (``Quantity * UnitPrice``, ``sum(x)``, ``x > 0``)
is converted on the way, and a value that is not a number sets its row aside with the reason
("not a number in column Quantity") instead of silently becoming empty. Used as a condition
(``not inbound``) a column reads true/false, yes/no, y/n, t/f, 1/0.

One function is the mapping's own: ``id_text(x)`` writes an id exported as a float (``17850.0``)
as the integer it is (``17850``); other text is kept as is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

#: Operators and literals an expression may use.
_NODES = (
    exp.Column, exp.Identifier, exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.Neg, exp.Not,
    exp.And, exp.Or, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv, exp.EQ, exp.NEQ,
    exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.Case,
    exp.If, exp.Cast, exp.TryCast, exp.DataType, exp.DPipe, exp.Star, exp.Distinct, exp.IgnoreNulls,
)
#: Functions by name (sqlglot's key for the ones it knows, the written name for the others).
SCALAR_FUNCTIONS = {
    "lower", "upper", "trim", "ltrim", "rtrim", "substring", "length", "replace", "concat", "coalesce",
    "nullif", "abs", "round", "floor", "ceil", "sign", "pow", "greatest", "least", "left", "right",
    "strtotime", "try_strptime", "regexpreplace", "regexpextract", "regexplike", "startswith",
    "endswith", "contains", "splitpart", "strposition", "lpad", "rpad", "unixtotime", "id_text",
}
AGGREGATE_FUNCTIONS = {"sum", "min", "max", "count", "avg", "anyvalue", "first", "last", "argmax", "argmin"}
_NUMERIC_PARENTS = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv, exp.Neg, exp.Sum, exp.Avg,
                    exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Sign, exp.Pow)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
#: A value made only of these characters is first looked up as a column name.
_PLAIN = re.compile(r"^[\w .\-/#:]+$")
_NAMES_FOR_PEOPLE = {
    "strtotime": "strptime", "regexpreplace": "regexp_replace", "regexpextract": "regexp_extract",
    "regexplike": "regexp_matches", "startswith": "starts_with", "endswith": "ends_with",
    "splitpart": "split_part", "strposition": "strpos", "unixtotime": "to_timestamp",
    "anyvalue": "any_value", "argmax": "arg_max", "argmin": "arg_min", "pow": "power",
}


class ExpressionError(ValueError):
    """An expression that cannot be used; the message says why in a few words."""


def _fname(node: exp.Expression) -> str:
    return node.name.lower() if isinstance(node, exp.Anonymous) else node.key


def allowed_functions() -> str:
    names = sorted(_NAMES_FOR_PEOPLE.get(n, n) for n in SCALAR_FUNCTIONS | AGGREGATE_FUNCTIONS)
    return ", ".join(names)


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression (or a plain column name)."""

    text: str
    tree: exp.Expression
    #: (lookup alias or None, column name) of every column it reads, in order of appearance
    columns: tuple[tuple[str | None, str], ...]
    aggregate: bool

    @property
    def is_column(self) -> bool:
        return isinstance(self.tree, exp.Column)

    @property
    def is_constant(self) -> bool:
        return not self.columns and not self.aggregate


def looks_plain(text: str) -> bool:
    """True for a value that may simply be a column's name (``Order Date``, ``visitor``)."""
    return bool(_PLAIN.match(text)) and not text.strip().lower().startswith(("not ", "case "))


def column(name: str, alias: str | None = None) -> Expression:
    """A plain reference to one column, whatever characters its name holds."""
    tree = exp.Column(this=exp.Identifier(this=name, quoted=True),
                      table=exp.Identifier(this=alias, quoted=True) if alias else None)
    return Expression(f"{alias}.{name}" if alias else name, tree, ((alias, name),), False)


def parse(text: str, *, aggregates: bool = True) -> Expression:
    """Parse and check ``text``; raises :class:`ExpressionError` saying what is not allowed."""
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.SqlglotError as exc:  # a parse or a tokenizer error
        first = str(exc).splitlines()[0]
        raise ExpressionError(f"cannot be read as an expression ({first})") from None
    if tree is None:
        raise ExpressionError("is empty")
    columns: list[tuple[str | None, str]] = []
    has_aggregate = False
    for node in tree.walk():
        if isinstance(node, exp.Func) and not isinstance(node, (exp.Case, exp.If, exp.Cast, exp.TryCast)):
            name = _fname(node)
            if name in AGGREGATE_FUNCTIONS:
                if not aggregates:
                    raise ExpressionError(f"uses {_NAMES_FOR_PEOPLE.get(name, name)}(), which sums up "
                                          "several rows: only allowed in columns of a table with group_by")
                inner = [n for n in node.find_all(exp.Func)
                         if n is not node and _fname(n) in AGGREGATE_FUNCTIONS]
                if inner:
                    raise ExpressionError("puts one aggregate inside another")
                has_aggregate = True
            elif name not in SCALAR_FUNCTIONS:
                shown = node.name if isinstance(node, exp.Anonymous) else node.sql_name().lower()
                raise ExpressionError(f"uses {shown}(), which a mapping may not use "
                                      f"(functions: {allowed_functions()})")
        elif isinstance(node, exp.Alias):
            raise ExpressionError("is not one expression (two words? quote a column name with spaces "
                                  "in double quotes, e.g. \"Order Date\")")
        elif not isinstance(node, _NODES):
            raise ExpressionError(f"uses {node.key.upper()}, which a mapping expression may not use "
                                  "(columns, constants, arithmetic, comparisons, CASE, casts and functions only)")
        if isinstance(node, exp.Column):
            if isinstance(node.this, exp.Star):
                continue
            if node.args.get("db") or node.args.get("catalog"):
                raise ExpressionError(f"names {node.sql()}: a column is written name or lookup.name")
            columns.append((node.table or None, node.name))
    if isinstance(tree, exp.Star):
        raise ExpressionError("is * (name a column)")
    return Expression(text, tree, tuple(dict.fromkeys(columns)), has_aggregate)


def _context(node: exp.Column) -> str:
    """How a column is used where it stands: as a number, a condition, or as it is."""
    parent = node.parent
    while isinstance(parent, exp.Paren):
        node, parent = parent, parent.parent
    if isinstance(parent, _NUMERIC_PARENTS):
        return "num"
    if isinstance(parent, _COMPARISONS):
        others = [v for k, v in parent.args.items() if v is not node and isinstance(v, exp.Expression)]
        if any(isinstance(o, exp.Literal) and o.is_number or isinstance(o, exp.Neg) for o in others):
            return "num"
    if isinstance(parent, (exp.Not, exp.And, exp.Or)):
        return "bool"
    if isinstance(parent, exp.If) and parent.args.get("this") is node:
        return "bool"
    return "raw"


@dataclass(frozen=True)
class Rendered:
    sql: str
    #: (SQL condition, reason) for a value that could not be read the way the expression uses it
    problems: tuple[tuple[str, str], ...]


def render(e: Expression, ref: Callable[[str | None, str], str]) -> Rendered:
    """DuckDB SQL for ``e``; ``ref(alias, name)`` gives the SQL of a column reference."""
    problems: dict[str, str] = {}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            alias, name = node.table or None, node.name
            raw = ref(alias, name)
            label = f"{alias}.{name}" if alias else name
            how = _context(node)
            if how == "num":
                problems[f"({raw} IS NOT NULL AND trim({raw}::VARCHAR) <> '' AND TRY_CAST({raw} AS DOUBLE) IS NULL)"] = (
                    f"not a number in column {label}")
                return sqlglot.parse_one(f"TRY_CAST({raw} AS DOUBLE)", read="duckdb")
            if how == "bool":
                t = ", ".join(f"'{v}'" for v in _TRUE)
                f = ", ".join(f"'{v}'" for v in _FALSE)
                low = f"lower(trim({raw}::VARCHAR))"
                problems[f"({raw} IS NOT NULL AND trim({raw}::VARCHAR) <> '' AND {low} NOT IN ({t}, {f}))"] = (
                    f"not true/false in column {label}")
                return sqlglot.parse_one(f"CASE WHEN {low} IN ({t}) THEN true WHEN {low} IN ({f}) THEN false END",
                                         read="duckdb")
            return sqlglot.parse_one(raw, read="duckdb")
        return node

    def expand(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() == "id_text":
            if len(node.expressions) != 1:
                raise ExpressionError("id_text() takes one value")
            x = f"trim(({node.expressions[0].sql('duckdb')})::VARCHAR)"
            return sqlglot.parse_one(
                f"CASE WHEN regexp_full_match({x}, '-?[0-9]+\\.0*') THEN regexp_replace({x}, '\\.0*$', '') "
                f"ELSE NULLIF({x}, '') END", read="duckdb")
        return node

    def soften(node: exp.Expression) -> exp.Expression:
        # a value that does not convert becomes empty (and is caught by the column's checks)
        # instead of stopping the whole ingest
        if type(node) is exp.Cast:
            return exp.TryCast(this=node.this, to=node.args["to"])
        return node

    tree = e.tree.copy().transform(swap).transform(expand).transform(soften)
    return Rendered(tree.sql("duckdb"), tuple((c, r) for c, r in problems.items()))
