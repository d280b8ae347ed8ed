"""Integer surrogate keys for customers: every customer id the store has seen gets a number once,
at ingest, and keeps it (``ac_customer_keys``); each row of a table that names a customer
(``customer_id``; a deal's ``primary_contact_id``) holds its customer's number in the hidden column
``_customer_key``.

KPIs group and join on that number instead of the id's text (a 64-bit integer hashes and
compares in one step; an id such as ``"c0001234"`` or an e-mail address does not). The number is
never shown: KPI rows that name customers get their ids back (``Tables.customer_ids``), and
``Store.tables()`` gives the ids as they came.

New ids are numbered after the highest key in use, in the order of the ids' text, inside the
ingest's transaction: an ingest that fails leaves the numbering as it was; one that is later
forgotten leaves its numbers taken (a number is never given to another id).
"""

from __future__ import annotations

from afterclick.schemas import TABLE_NAMES, TABLES
from afterclick.store.tables import CUSTOMER_KEY, CUSTOMER_KEYS, quote_name

#: The canonical tables whose rows name a customer, and the column that does (a deal names its
#: person as its primary contact).
KEYED_COLUMNS = {**{n: "customer_id" for n in TABLE_NAMES if "customer_id" in TABLES[n].schema},
                 "deals": "primary_contact_id"}
KEYED_TABLES = tuple(KEYED_COLUMNS)


def assign_keys(con, table: str, where: str = "true") -> None:
    """Give the rows of ``table`` that match ``where`` and hold no key yet their customers' keys,
    numbering the ids never seen before (``con``: a DuckDB connection, in the caller's
    transaction)."""
    t, c = quote_name(table), quote_name(KEYED_COLUMNS[table])
    unkeyed = f"{CUSTOMER_KEY} IS NULL AND {c} IS NOT NULL AND ({where})"
    con.execute(f"""
        INSERT INTO {CUSTOMER_KEYS}
        SELECT n.customer_id, m.top + row_number() OVER (ORDER BY n.customer_id)
        FROM (SELECT DISTINCT {c} AS customer_id FROM {t} WHERE {unkeyed}) n
        ANTI JOIN {CUSTOMER_KEYS} USING (customer_id)
        CROSS JOIN (SELECT coalesce(max(customer_key), 0) AS top FROM {CUSTOMER_KEYS}) m""")
    con.execute(f"UPDATE {t} SET {CUSTOMER_KEY} = k.customer_key FROM {CUSTOMER_KEYS} k "
                f"WHERE {t}.{c} = k.customer_id AND {t}.{CUSTOMER_KEY} IS NULL AND ({where})")


def unkeyed_rows(con, table: str) -> int:
    """Rows of ``table`` that name a customer but hold no key (a store older than the keys, or
    rows written by hand)."""
    c = quote_name(KEYED_COLUMNS[table])
    return con.execute(f"SELECT count(*) FROM {quote_name(table)} "
                       f"WHERE {CUSTOMER_KEY} IS NULL AND {c} IS NOT NULL").fetchone()[0]
