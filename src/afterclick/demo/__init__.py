"""The Mossbrook demo brand: a synthetic, deterministic data set with planted truths.

``generate(size, seed)`` returns the seven canonical tables as pandas DataFrames;
``write_demo(folder, size, seed)`` writes them as Parquet files ready for the ordinary ingest.
The brand, its parameters and every planted truth (with the numbers to expect) are described in
``docs/demo.md``.
"""

from afterclick.demo.brand import (
    BRAND_AUTHOR_ID,
    BRAND_NAME,
    CLICK_BAIT_CAMPAIGN,
    CURRENCY,
    DATA_END,
    DATA_START,
    DEEP_GUIDE,
    RELATIONSHIP_CAMPAIGN,
    THEMES,
    VIRAL_POST,
)
from afterclick.demo.generator import (
    BGNBD,
    EARLY_SIGNAL_DAYS,
    EARLY_SIGNAL_EVENT,
    GAMMA_GAMMA,
    SIZES,
    generate,
    write_demo,
)

__all__ = [
    "BGNBD",
    "BRAND_AUTHOR_ID",
    "BRAND_NAME",
    "CLICK_BAIT_CAMPAIGN",
    "CURRENCY",
    "DATA_END",
    "DATA_START",
    "DEEP_GUIDE",
    "EARLY_SIGNAL_DAYS",
    "EARLY_SIGNAL_EVENT",
    "GAMMA_GAMMA",
    "RELATIONSHIP_CAMPAIGN",
    "SIZES",
    "THEMES",
    "VIRAL_POST",
    "generate",
    "write_demo",
]
