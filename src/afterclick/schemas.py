"""The canonical tables every source is mapped onto, and the event vocabulary.

Only ``events`` is required; every KPI declares the tables it needs and is skipped,
with its reason, when one is missing. Timestamps are UTC (converted at ingest and stored without
a zone), ids are strings.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.datatypes as dt


class EventClass(StrEnum):
    """How deep an interaction goes; the journey and the ladder are built on it."""

    EXPOSURE = "exposure"
    SHALLOW = "shallow"
    VISIT = "visit"
    DEEP = "deep"
    OTHER = "other"


#: Canonical event names and their class. Names outside this vocabulary are kept
#: (and reported at ingest) and count as ``EventClass.OTHER``.
EVENT_VOCABULARY: dict[str, EventClass] = {
    "impression": EventClass.EXPOSURE,
    "click": EventClass.SHALLOW,
    "like": EventClass.SHALLOW,
    "follow": EventClass.SHALLOW,
    "visit": EventClass.VISIT,
    "save": EventClass.DEEP,
    "share": EventClass.DEEP,
    "download": EventClass.DEEP,
    "signup": EventClass.DEEP,
    "subscribe": EventClass.DEEP,
    "lead": EventClass.DEEP,
    "referral": EventClass.DEEP,
    "review_read": EventClass.DEEP,
    "tutorial_view": EventClass.DEEP,
}


def events_of(cls: EventClass) -> tuple[str, ...]:
    """Canonical event names of one class, in a stable order."""
    return tuple(name for name, c in EVENT_VOCABULARY.items() if c is cls)


MESSAGE_KINDS = ("comment", "reply", "dm", "review", "mention", "community_post", "support")
CONTENT_KINDS = (
    "post", "article", "guide", "tutorial", "video", "newsletter", "product_page",
    "review", "comparison", "podcast", "webinar",
)
#: Intended behaviours a content item may declare (its optional ``goal``): the canonical event
#: names a person can do on content. Other names are kept and reported at ingest, like unknown
#: event names (a source's own event, mapped or not, can still be a goal).
CONTENT_GOALS = ("visit", "like", "follow", "save", "share", "download", "signup", "subscribe",
                 "lead", "referral", "review_read", "tutorial_view")
CAMPAIGN_OBJECTIVES = ("awareness", "engagement", "conversion", "retention")

#: Survey score ranges accepted at ingest (inclusive); other surveys must lie in 0..100.
SURVEY_RANGES: dict[str, tuple[float, float]] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
}
DEFAULT_SURVEY_RANGE = (0.0, 100.0)


@dataclass(frozen=True)
class TableSpec:
    """One canonical table: its columns, which are required, and its natural key."""

    name: str
    schema: ibis.Schema
    required: tuple[str, ...]
    key: tuple[str, ...]
    #: Timestamp columns (parsed as UTC at ingest).
    timestamps: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.schema.names)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in self.required)


# Times are UTC, stored without a zone: zone-aware timestamps make every date function go
# through a calendar library (about 20x slower in DuckDB), and the zone is always UTC anyway.
_TS = dt.Timestamp()

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "events",
            ibis.schema(
                {
                    "customer_id": dt.string,
                    "ts": _TS,
                    "event": dt.string,
                    "channel": dt.string,
                    "campaign_id": dt.string,
                    "content_id": dt.string,
                    "session_id": dt.string,
                    "duration_s": dt.float64,
                    "value": dt.float64,
                }
            ),
            required=("customer_id", "ts", "event"),
            # events have no id of their own: an identical row twice is a duplicate
            key=("customer_id", "ts", "event", "channel", "campaign_id", "content_id", "session_id"),
            timestamps=("ts",),
        ),
        TableSpec(
            "transactions",
            ibis.schema(
                {
                    "order_id": dt.string,
                    "customer_id": dt.string,
                    "ts": _TS,
                    "amount": dt.float64,
                    "campaign_id": dt.string,
                    # a refund or cancellation has a negative amount; refund_of names the order it
                    # takes back, when the export says it (otherwise it counts against the customer)
                    "refund_of": dt.string,
                }
            ),
            required=("order_id", "customer_id", "ts", "amount"),
            key=("order_id",),
            timestamps=("ts",),
        ),
        TableSpec(
            "messages",
            ibis.schema(
                {
                    "message_id": dt.string,
                    "author_id": dt.string,
                    "ts": _TS,
                    "text": dt.string,
                    "kind": dt.string,
                    "content_id": dt.string,
                    "parent_id": dt.string,
                    "is_brand": dt.boolean,
                }
            ),
            required=("message_id", "author_id", "ts", "text"),
            key=("message_id",),
            timestamps=("ts",),
        ),
        TableSpec(
            "responses",
            ibis.schema(
                {
                    "response_id": dt.string,
                    "customer_id": dt.string,
                    "ts": _TS,
                    "survey": dt.string,
                    "score": dt.float64,
                    "comment": dt.string,
                    "touchpoint": dt.string,
                }
            ),
            required=("response_id", "customer_id", "ts", "survey", "score"),
            key=("response_id",),
            timestamps=("ts",),
        ),
        TableSpec(
            "content",
            ibis.schema(
                {
                    "content_id": dt.string,
                    "kind": dt.string,
                    "title": dt.string,
                    "published_at": _TS,
                    "campaign_id": dt.string,
                    "topic": dt.string,
                    # the behaviour the item is meant to cause (an event name: download, share,
                    # signup...); content.goal_attainment scores items against it
                    "goal": dt.string,
                }
            ),
            required=("content_id",),
            key=("content_id",),
            timestamps=("published_at",),
        ),
        TableSpec(
            "campaigns",
            ibis.schema(
                {
                    "campaign_id": dt.string,
                    "name": dt.string,
                    "channel": dt.string,
                    "objective": dt.string,
                    "start": _TS,
                    "end": _TS,
                    "spend": dt.float64,
                }
            ),
            required=("campaign_id",),
            key=("campaign_id",),
            timestamps=("start", "end"),
        ),
        TableSpec(
            "customers",
            ibis.schema(
                {
                    "customer_id": dt.string,
                    "segment": dt.string,
                    "acquisition_campaign_id": dt.string,
                    "region": dt.string,
                    "plan": dt.string,
                    # B2B: the account (company) the person belongs to
                    "account_id": dt.string,
                }
            ),
            required=("customer_id",),
            key=("customer_id",),
        ),
        # -- experiments ---------------------------------------------------------------------
        TableSpec(
            "experiments",
            ibis.schema(
                {
                    "experiment_id": dt.string,
                    "name": dt.string,
                    "hypothesis": dt.string,
                    "start": _TS,
                    "end": _TS,
                    "control_variant": dt.string,
                    # the planned share of each variant: "A:50, B:50" (any positive weights)
                    "planned_split": dt.string,
                    "primary_metric": dt.string,
                    # KPI ids or metric names, separated by commas
                    "guardrail_metrics": dt.string,
                }
            ),
            required=("experiment_id",),
            key=("experiment_id",),
            timestamps=("start", "end"),
        ),
        TableSpec(
            "assignments",
            ibis.schema(
                {
                    "experiment_id": dt.string,
                    "customer_id": dt.string,
                    "variant": dt.string,
                    "ts": _TS,
                }
            ),
            required=("experiment_id", "customer_id", "variant", "ts"),
            # one variant per person and experiment: a second, other variant is set aside
            key=("experiment_id", "customer_id"),
            timestamps=("ts",),
        ),
        # -- B2B: accounts, leads, deals, recurring revenue --------------------------------
        TableSpec(
            "accounts",
            ibis.schema(
                {
                    "account_id": dt.string,
                    "name": dt.string,
                    "industry": dt.string,
                    "size_band": dt.string,
                    "owner": dt.string,
                }
            ),
            required=("account_id",),
            key=("account_id",),
        ),
        TableSpec(
            "lead_status",
            ibis.schema(
                {
                    "lead_id": dt.string,
                    "customer_id": dt.string,
                    "ts": _TS,
                    # inquiry, mql, sal, sql, rejected, recycled (LEAD_STATUSES)
                    "status": dt.string,
                    "reason": dt.string,
                    "owner": dt.string,
                    "account_id": dt.string,
                    "campaign_id": dt.string,
                }
            ),
            required=("lead_id", "customer_id", "ts", "status"),
            key=("lead_id", "ts", "status"),
            timestamps=("ts",),
        ),
        TableSpec(
            "deals",
            ibis.schema(
                {
                    "deal_id": dt.string,
                    "account_id": dt.string,
                    "created_at": _TS,
                    "stage": dt.string,
                    "amount": dt.float64,
                    "closed_at": _TS,
                    # won or lost once closed (DEAL_OUTCOMES); empty while open
                    "outcome": dt.string,
                    "lost_reason": dt.string,
                    "source_campaign_id": dt.string,
                    "primary_contact_id": dt.string,
                }
            ),
            required=("deal_id", "account_id", "created_at"),
            key=("deal_id",),
            timestamps=("created_at", "closed_at"),
        ),
        TableSpec(
            "deal_stages",
            ibis.schema({"deal_id": dt.string, "stage": dt.string, "ts": _TS}),
            required=("deal_id", "stage", "ts"),
            key=("deal_id", "stage", "ts"),
            timestamps=("ts",),
        ),
        TableSpec(
            "subscriptions",
            ibis.schema(
                {
                    "account_id": dt.string,
                    "customer_id": dt.string,
                    # the month the recurring revenue is for (its first day)
                    "month": _TS,
                    "mrr": dt.float64,
                    "plan": dt.string,
                }
            ),
            # an account's or a person's subscription: one of account_id / customer_id
            required=("month", "mrr"),
            key=("account_id", "customer_id", "month"),
            timestamps=("month",),
        ),
    )
}

#: The stages a lead goes through (the demand waterfall, SiriusDecisions 2012 and later).
LEAD_STATUSES = ("inquiry", "mql", "sal", "sql", "rejected", "recycled")
DEAL_OUTCOMES = ("won", "lost")

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)

#: Tables afterclick derives from the canonical ones and keeps in the store (e.g. one text score
#: per message, computed once and reused), with how a person gets them when they are missing.
#: A KPI may require them like a canonical table; the workspace brings them up to date first
#: (see ``afterclick.workspace.register_preparer``).
DERIVED_TABLES: dict[str, str] = {
    "text_scores": "scored from the messages and survey comments",
    "clv": "predicted per customer by the lifetime-value models from transactions",
}


def empty_table(name: str) -> ibis.Table:
    """An unbound Ibis table of a canonical schema (for building expressions offline)."""
    return ibis.table(TABLES[name].schema, name=name)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")


def event_label(name: Any) -> str:
    """An event name as a person reads it: "add_to_cart" → "Add to cart", "tutorial_view" →
    "Tutorial view", "addToCart" → "Add to cart"; acronyms keep their capitals ("PDF_download" →
    "PDF download"). For every chart, sentence and note that names events; exports keep the
    names as stored."""
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return ""
    words = _CAMEL.sub(" ", str(name)).replace("_", " ").replace("-", " ").split()
    words = [w if w.isupper() and len(w) > 1 else w.lower() for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]
