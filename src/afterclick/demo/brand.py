"""The demo brand's catalogue: campaigns, content and the text the simulated people write.

Mossbrook is an invented, UK-based direct-to-consumer houseplant-care shop. It sells plants, pots,
soil and tools, runs a "Care Club" subscription box, and publishes care guides, tutorials, videos
and an e-mail course. Every name, title and sentence here was written for this demo.

The catalogue is data: ``brand.toml`` beside this module (shipped with the package) holds the
campaigns, the content, who the people are and the text they write. The behavioural knobs of each
campaign (click-through rate, how long its customers stay interested, how often they buy, ...) sit
there beside the campaign, so the planted truths documented in ``docs/demo.md`` can be read off one
table. This module gives them types and names.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

BRAND_NAME = "Mossbrook"
BRAND_AUTHOR_ID = "brand"
CURRENCY = "GBP"

#: The fixed calendar: 18 months of data, never tied to today's date.
DATA_START = pd.Timestamp("2025-05-01T00:00:00Z")
#: Exclusive end: every generated timestamp is strictly before this instant.
DATA_END = pd.Timestamp("2026-11-01T00:00:00Z")
N_DAYS = (DATA_END - DATA_START).days  # 549


# --------------------------------------------------------------------------------------------
# Campaigns
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    channel: str
    objective: str
    start: str
    end: str
    #: Spend (GBP) at the "small" size; it scales with the number of customers.
    spend: float
    # --- behaviour (not part of the canonical table) ---
    #: Click-through rate the impressions are generated to match (clicks / impressions).
    ctr: float
    #: Relative share of first clicks (acquisitions) this campaign wins over its lifetime.
    acquisition_weight: float
    #: Mean "interest lifetime" in days of the people it acquires (before the learner boost).
    interest_days: float
    #: Probability that an acquired person ever places a first order.
    conversion: float
    #: Multiplier on the BG/NBD purchase rate lambda of its customers.
    rate_mult: float
    #: Multiplier on the BG/NBD dropout probability p of its customers.
    dropout_mult: float
    #: Multiplier on order values.
    spend_mult: float
    #: Share of its customers who are "learners" (watch tutorials early, stay far longer).
    learner_share: float
    #: Multiplier on the latent engagement propensity of its customers.
    engagement_mult: float
    #: Content ids a click lands on (the first page view of the click's session).
    landing: tuple[str, ...]
    #: Weight of this campaign among the campaigns that bring existing customers back.
    return_weight: float = 1.0
    #: Share of its clicks that bounce: no page ever follows (a "click to nowhere").
    bounce: float = 0.06


@dataclass(frozen=True)
class Content:
    content_id: str
    kind: str
    title: str
    topic: str
    published: str
    campaign_id: str | None = None
    #: Relative weight among on-site page views (0 = not a web page: social posts, videos).
    views: float = 0.0
    #: Expected likes at the small size.
    likes: float = 0.0
    #: Expected comments at the small size.
    comments: float = 0.0
    #: Expected social saves / shares at the small size (posts and videos only).
    social_saves: float = 0.0
    social_shares: float = 0.0


CLICK_BAIT_CAMPAIGN = "giveaway-monstera"
RELATIONSHIP_CAMPAIGN = "academy-email"
VIRAL_POST = "ct-70"
DEEP_GUIDE = "ct-20"
#: The pages a visit can show besides content items (home, category, basket, checkout): no content_id.
NULL_PAGE_SHARE = 0.3

CATALOGUE = Path(__file__).with_name("brand.toml")


def _read() -> dict[str, Any]:
    data = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))
    for c in (*data["campaign"], data["organic"]):
        c["landing"] = tuple(c["landing"])
    return data


_DATA = _read()
_PEOPLE, _TEXTS = _DATA["people"], {k: tuple(v) for k, v in _DATA["texts"].items()}

CAMPAIGNS: tuple[Campaign, ...] = tuple(Campaign(**c) for c in _DATA["campaign"])
#: People whose first click came from no campaign (organic search, direct links).
ORGANIC = Campaign(**_DATA["organic"])
CONTENT: tuple[Content, ...] = tuple(Content(**c) for c in _DATA["content"]["items"])

SEGMENTS: tuple[str, ...] = tuple(_PEOPLE["segments"])
SOCIAL_ONLY_SEGMENT: str = _PEOPLE["social_only_segment"]
REGIONS: tuple[str, ...] = tuple(_PEOPLE["regions"])
REGION_WEIGHTS: tuple[float, ...] = tuple(_PEOPLE["region_weights"])
PLANS: tuple[str, ...] = tuple(_PEOPLE["plans"])
PLANTS: tuple[str, ...] = tuple(_PEOPLE["plants"])

#: Recurring themes in the open survey answers, and where they sit on the score scale.
THEMES: dict[str, str] = dict(_DATA["themes"])
THEME_PHRASES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _DATA["theme_phrases"].items()}

GENERIC_GOOD, GENERIC_MEH, GENERIC_BAD = _TEXTS["generic_good"], _TEXTS["generic_meh"], _TEXTS["generic_bad"]
OPENERS, CLOSERS = _TEXTS["openers"], _TEXTS["closers"]
GRATITUDE_COMMENTS, MEME_COMMENTS = _TEXTS["gratitude_comments"], _TEXTS["meme_comments"]
GIVEAWAY_COMMENTS, POST_COMMENTS = _TEXTS["giveaway_comments"], _TEXTS["post_comments"]
LEARNING_COMMENTS, PRODUCT_COMMENTS = _TEXTS["learning_comments"], _TEXTS["product_comments"]
COMMUNITY_POSTS, MEMBER_REPLIES, OP_THANKS = _TEXTS["community_posts"], _TEXTS["member_replies"], _TEXTS["op_thanks"]
BRAND_REPLIES, DMS, BRAND_DM_REPLIES = _TEXTS["brand_replies"], _TEXTS["dms"], _TEXTS["brand_dm_replies"]
SUPPORT_LATE, SUPPORT_OTHER = _TEXTS["support_late"], _TEXTS["support_other"]
BRAND_SUPPORT_REPLIES = _TEXTS["brand_support_replies"]
REVIEWS_GOOD, REVIEWS_BAD, MENTIONS = _TEXTS["reviews_good"], _TEXTS["reviews_bad"], _TEXTS["mentions"]
#: Customer texts with characters that must be escaped when rendered.
TRICKY_TEXTS: tuple[str, ...] = _TEXTS["tricky_texts"]
#: Customer texts carrying personal details (for masking tests). Reserved example domains and
#: drama-range phone numbers only.
PII_TEXTS: tuple[str, ...] = _TEXTS["pii_texts"]
