"""The demo brand's catalogue: campaigns, content and the text the simulated people write.

Mossbrook is an invented, UK-based direct-to-consumer houseplant-care shop. It sells plants, pots,
soil and tools, runs a "Care Club" subscription box, and publishes care guides, tutorials, videos
and an e-mail course. Every name, title and sentence here was written for this demo.

The behavioural knobs of each campaign (click-through rate, how long its customers stay interested,
how often they buy, ...) live here beside the campaign, so the planted truths documented in
``docs/demo.md`` can be read off one table.
"""

from __future__ import annotations

from dataclasses import dataclass

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


CLICK_BAIT_CAMPAIGN = "giveaway-monstera"
RELATIONSHIP_CAMPAIGN = "academy-email"

CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign(
        "search-always-on", "Always-on search ads", "search", "conversion",
        "2025-05-01", "2026-10-31", 9000.0,
        ctr=0.070, acquisition_weight=0.20, interest_days=45, conversion=0.34,
        rate_mult=1.0, dropout_mult=1.0, spend_mult=1.0, learner_share=0.12,
        engagement_mult=1.0, landing=("ct-01", "ct-02", "ct-03", "ct-05", "ct-10", "ct-14"),
        return_weight=1.5,
        bounce=0.06,
    ),
    Campaign(
        CLICK_BAIT_CAMPAIGN, "Win-a-Monstera giveaway", "social", "awareness",
        "2025-08-01", "2025-12-15", 6500.0,
        ctr=0.130, acquisition_weight=0.22, interest_days=10, conversion=0.07,
        rate_mult=0.45, dropout_mult=2.2, spend_mult=0.7, learner_share=0.02,
        engagement_mult=0.4, landing=("ct-01",),
        bounce=0.35,
    ),
    Campaign(
        RELATIONSHIP_CAMPAIGN, "Plant Care Academy (six-week e-mail course)", "email", "engagement",
        "2025-06-01", "2026-09-30", 2500.0,
        ctr=0.028, acquisition_weight=0.12, interest_days=80, conversion=0.5,
        rate_mult=1.4, dropout_mult=0.6, spend_mult=1.15, learner_share=0.55,
        engagement_mult=1.5, landing=("ct-60", "ct-61", "ct-62", "ct-63", "ct-64", "ct-65", "ct-20"),
        return_weight=2.0,
        bounce=0.03,
    ),
    Campaign(
        "display-retargeting", "Display retargeting", "display", "conversion",
        "2025-05-01", "2026-10-31", 5000.0,
        ctr=0.018, acquisition_weight=0.07, interest_days=40, conversion=0.30,
        rate_mult=0.9, dropout_mult=1.1, spend_mult=1.0, learner_share=0.08,
        engagement_mult=0.9, landing=("ct-01", "ct-04", "ct-06", "ct-07", "ct-08", "ct-12"),
        bounce=0.16,
    ),
    Campaign(
        "creator-collab", "Creator collab: Jungle at Home", "influencer", "awareness",
        "2025-10-01", "2026-02-28", 7000.0,
        ctr=0.042, acquisition_weight=0.12, interest_days=40, conversion=0.18,
        rate_mult=0.9, dropout_mult=1.2, spend_mult=0.95, learner_share=0.12,
        engagement_mult=1.0, landing=("ct-14", "ct-04", "ct-05", "ct-42"),
        bounce=0.1,
    ),
    Campaign(
        "summer-sale", "Summer sale (social ads)", "social", "conversion",
        "2026-05-25", "2026-06-30", 3000.0,
        ctr=0.052, acquisition_weight=0.07, interest_days=60, conversion=0.40,
        rate_mult=0.8, dropout_mult=1.3, spend_mult=0.8, learner_share=0.04,
        engagement_mult=1.0, landing=("ct-01", "ct-03", "ct-07", "ct-08", "ct-10"),
        bounce=0.08,
    ),
    Campaign(
        "repot-video-series", "Repot Season video series", "video", "engagement",
        "2026-02-15", "2026-05-31", 4000.0,
        ctr=0.036, acquisition_weight=0.06, interest_days=50, conversion=0.28,
        rate_mult=1.2, dropout_mult=0.8, spend_mult=1.05, learner_share=0.25,
        engagement_mult=1.2, landing=("ct-31", "ct-32", "ct-25", "ct-09"),
        bounce=0.05,
    ),
    Campaign(
        "care-club-referral", "Care Club refer-a-friend push", "email", "retention",
        "2026-03-01", "2026-09-30", 1500.0,
        ctr=0.058, acquisition_weight=0.05, interest_days=70, conversion=0.35,
        rate_mult=1.1, dropout_mult=0.7, spend_mult=1.05, learner_share=0.20,
        engagement_mult=1.1, landing=("ct-13",),
        return_weight=1.5,
        bounce=0.04,
    ),
)

#: People whose first click came from no campaign (organic search, direct links).
ORGANIC = Campaign(
    "", "Organic", "organic", "", "2025-05-01", "2026-10-31", 0.0,
    ctr=1.0, acquisition_weight=0.10, interest_days=50, conversion=0.30,
    rate_mult=1.0, dropout_mult=1.0, spend_mult=1.0, learner_share=0.12,
    engagement_mult=1.0, landing=("ct-01", "ct-02", "ct-40", "ct-41", "ct-20", "ct-42"), bounce=0.05,
)


# --------------------------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------------------------


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


VIRAL_POST = "ct-70"
DEEP_GUIDE = "ct-20"

_PP = "2025-04-01"  # product pages predate the data

CONTENT: tuple[Content, ...] = (
    # --- product pages
    Content("ct-01", "product_page", "Monstera deliciosa, 25 cm nursery pot", "plants", _PP, views=9, likes=3, comments=4),
    Content("ct-02", "product_page", "Snake plant 'Laurentii'", "plants", _PP, views=6, likes=2, comments=3),
    Content("ct-03", "product_page", "Golden pothos in a hanging basket", "plants", _PP, views=6, likes=2, comments=3),
    Content("ct-04", "product_page", "Peace lily, 17 cm", "plants", _PP, views=5, likes=2, comments=2),
    Content("ct-05", "product_page", "ZZ plant", "plants", _PP, views=4, likes=1, comments=2),
    Content("ct-06", "product_page", "Calathea orbifolia", "plants", _PP, views=4, likes=2, comments=3),
    Content("ct-07", "product_page", "Fiddle leaf fig, 80 cm", "plants", _PP, views=5, likes=2, comments=3),
    Content("ct-08", "product_page", "Self-watering terracotta pot", "pots", _PP, views=4, likes=1, comments=2),
    Content("ct-09", "product_page", "Chunky aroid potting mix, 5 litres", "soil", _PP, views=3, likes=1, comments=2),
    Content("ct-10", "product_page", "Plant care starter kit", "tools", _PP, views=4, likes=1, comments=2),
    Content("ct-11", "product_page", "Soil moisture meter", "tools", _PP, views=2, likes=1, comments=1),
    Content("ct-12", "product_page", "Full-spectrum grow light bar", "light", _PP, views=2, likes=1, comments=1),
    Content("ct-13", "product_page", "Care Club monthly box", "subscription", _PP, views=3, likes=2, comments=2),
    Content("ct-14", "product_page", "Pet-safe plant trio", "pet_safe", _PP, views=3, likes=2, comments=2),
    # --- guides (downloadable)
    Content(DEEP_GUIDE, "guide", "Overwatered? The complete rescue guide (printable PDF)", "watering",
            "2025-07-08", views=5, likes=2, comments=45),
    Content("ct-21", "guide", "Light, room by room: where each plant will actually thrive", "light",
            "2025-05-20", views=2.0, likes=6, comments=5),
    Content("ct-22", "guide", "The pest ID field guide", "pests", "2025-09-02", views=1.6, likes=5, comments=4),
    Content("ct-23", "guide", "Going away? A plant-sitter checklist", "watering", "2026-06-02",
            views=1.2, likes=4, comments=3),
    Content("ct-24", "guide", "Humidity without the gadgets", "humidity", "2025-11-10", views=1.4, likes=5, comments=3),
    Content("ct-25", "guide", "Repotting: when, how and which mix", "repotting", "2026-02-16",
            "repot-video-series", views=1.6, likes=6, comments=4),
    # --- tutorials
    Content("ct-30", "tutorial", "Tutorial: propagating pothos in water", "propagation", "2025-06-10",
            views=1.0, likes=8, comments=6),
    Content("ct-31", "tutorial", "Tutorial: repot a root-bound plant in ten minutes", "repotting", "2026-02-16",
            "repot-video-series", views=1.0, likes=7, comments=5),
    Content("ct-32", "tutorial", "Tutorial: mix your own chunky aroid soil", "soil", "2026-03-02",
            "repot-video-series", views=0.8, likes=6, comments=4),
    Content("ct-33", "tutorial", "Tutorial: cleaning dusty leaves properly", "care_basics", "2025-08-19",
            views=0.8, likes=5, comments=3),
    Content("ct-34", "tutorial", "Tutorial: dividing an overgrown snake plant", "propagation", "2025-10-14",
            views=0.7, likes=5, comments=3),
    Content("ct-35", "tutorial", "Tutorial: setting up a grow light on a bookshelf", "light", "2025-12-02",
            views=0.7, likes=4, comments=3),
    # --- articles and other long reads
    Content("ct-40", "article", "Why are my leaves turning yellow? Seven usual suspects", "watering",
            "2025-05-06", views=3.0, likes=18, comments=8),
    Content("ct-41", "article", "Ten plants that forgive forgetful owners", "beginners", "2025-06-03",
            views=2.5, likes=22, comments=6),
    Content("ct-42", "article", "Pet-safe plants for homes with cats and dogs", "pet_safe", "2025-07-22",
            views=2.0, likes=20, comments=7),
    Content("ct-43", "article", "Bottom watering versus top watering", "watering", "2025-09-16",
            views=1.5, likes=10, comments=5),
    Content("ct-44", "article", "What a drooping plant is trying to tell you", "care_basics", "2025-11-25",
            views=1.5, likes=9, comments=4),
    Content("ct-45", "article", "Winter care: less water, more light", "seasonal", "2025-12-09",
            views=1.6, likes=12, comments=4),
    Content("ct-46", "article", "Gifting plants: what to choose for whom", "gifting", "2025-11-18",
            views=1.2, likes=9, comments=3),
    Content("ct-47", "article", "Fungus gnats: an honest guide to getting rid of them", "pests",
            "2026-04-14", views=1.5, likes=8, comments=5),
    Content("ct-48", "comparison", "Terracotta, plastic or glazed? Pots compared", "pots", "2026-01-20",
            views=1.2, likes=6, comments=3),
    Content("ct-49", "webinar", "Live Q&A: ask our plant doctor", "care_basics", "2026-04-28",
            "academy-email", views=0.6, likes=6, comments=6),
    Content("ct-50", "podcast", "The Slow Grow podcast, episode 12: plants and patience", "community",
            "2026-05-19", views=0.5, likes=5, comments=2),
    # --- videos (watched on the video platform; not web pages)
    Content("ct-55", "video", "Greenhouse tour: where your plants grow up", "behind_the_scenes", "2025-06-24",
            likes=60, comments=8, social_saves=4, social_shares=6),
    Content("ct-56", "video", "Repot Season, episode 1: the tools you actually need", "repotting", "2026-02-16",
            "repot-video-series", likes=70, comments=10, social_saves=8, social_shares=5),
    Content("ct-57", "video", "Repot Season, episode 2: roots, rot and rescue", "repotting", "2026-03-09",
            "repot-video-series", likes=65, comments=12, social_saves=10, social_shares=5),
    Content("ct-58", "video", "Repot Season, episode 3: the perfect mix", "soil", "2026-04-06",
            "repot-video-series", likes=55, comments=9, social_saves=8, social_shares=4),
    Content("ct-59", "video", "Unboxing the Care Club spring box", "subscription", "2026-03-23",
            "care-club-referral", likes=40, comments=5, social_saves=2, social_shares=3),
    # --- e-mail course (web versions of the newsletters)
    Content("ct-60", "newsletter", "Academy lesson 1: reading the light in your home", "light", "2025-06-01",
            "academy-email", views=0.8, likes=2, comments=2),
    Content("ct-61", "newsletter", "Academy lesson 2: water by weight, not by calendar", "watering", "2025-06-01",
            "academy-email", views=0.8, likes=2, comments=2),
    Content("ct-62", "newsletter", "Academy lesson 3: feeding without burning", "feeding", "2025-06-01",
            "academy-email", views=0.6, likes=1, comments=1),
    Content("ct-63", "newsletter", "Academy lesson 4: pests, calmly", "pests", "2025-06-01",
            "academy-email", views=0.6, likes=1, comments=1),
    Content("ct-64", "newsletter", "Academy lesson 5: propagation for beginners", "propagation", "2025-06-01",
            "academy-email", views=0.6, likes=1, comments=1),
    Content("ct-65", "newsletter", "Academy lesson 6: a routine you will keep", "care_basics", "2025-06-01",
            "academy-email", views=0.6, likes=1, comments=1),
    Content("ct-66", "newsletter", "Care Club news: give a box, get a box", "subscription", "2026-03-01",
            "care-club-referral", views=0.5, likes=1, comments=1),
    # --- social posts
    Content(VIRAL_POST, "post", "Me: I don't need another plant. Also me, at the checkout (meme)", "humour",
            "2025-11-17", likes=900, comments=4, social_saves=0, social_shares=10),
    Content("ct-71", "post", "GIVEAWAY: win a giant Monstera. Like, follow and tag a friend", "promotions",
            "2025-08-01", CLICK_BAIT_CAMPAIGN, likes=312, comments=16, social_saves=2, social_shares=12),
    Content("ct-72", "post", "Giveaway week 2: a self-watering pot set is up for grabs", "promotions",
            "2025-09-15", CLICK_BAIT_CAMPAIGN, likes=252, comments=12, social_saves=2, social_shares=8),
    Content("ct-73", "post", "Final giveaway: the ultimate plant care kit", "promotions",
            "2025-11-03", CLICK_BAIT_CAMPAIGN, likes=288, comments=14, social_saves=2, social_shares=10),
    Content("ct-74", "post", "Summer sale: 30% off everything green", "promotions",
            "2026-05-25", "summer-sale", likes=96, comments=6, social_saves=3, social_shares=6),
    Content("ct-75", "post", "Summer sale: last week, last call", "promotions", "2026-06-23",
            "summer-sale", likes=66, comments=4, social_saves=2, social_shares=4),
    Content("ct-76", "post", "Jungle at Home picks her five favourite low-light plants", "light",
            "2025-10-01", "creator-collab", likes=180, comments=14, social_saves=30, social_shares=15),
    Content("ct-77", "post", "Creator takeover: a tiny flat with sixty plants", "community",
            "2025-12-05", "creator-collab", likes=204, comments=16, social_saves=25, social_shares=14),
    Content("ct-78", "post", "New arrivals: the calatheas are back", "plants", "2025-09-30",
            likes=90, comments=8, social_saves=6, social_shares=3),
    Content("ct-79", "post", "Which one would you rescue first? (poll)", "care_basics", "2026-01-12",
            likes=72, comments=12, social_saves=3, social_shares=3),
    Content("ct-80", "post", "Behind the scenes: packing 400 orders before the heatwave", "behind_the_scenes",
            "2026-07-07", likes=84, comments=7, social_saves=2, social_shares=4),
    Content("ct-81", "post", "Tip Tuesday: water less in winter", "seasonal", "2025-12-02",
            likes=78, comments=6, social_saves=18, social_shares=6),
    Content("ct-82", "post", "Customer corner: your shelfies", "community", "2026-04-21",
            likes=126, comments=18, social_saves=5, social_shares=5),
    Content("ct-83", "post", "Meet the team: Priya, our plant doctor", "behind_the_scenes", "2026-08-18",
            likes=96, comments=10, social_saves=2, social_shares=3),
)

#: The pages a visit can show besides content items (home, category, basket, checkout): no content_id.
NULL_PAGE_SHARE = 0.3

SEGMENTS = ("new_to_plants", "collector", "gift_buyer", "deal_seeker", "office")
SOCIAL_ONLY_SEGMENT = "social_only"
REGIONS = ("London", "South East", "South West", "Midlands", "North West", "North East & Yorkshire",
           "East of England", "Scotland", "Wales", "Northern Ireland")
REGION_WEIGHTS = (0.22, 0.15, 0.09, 0.13, 0.11, 0.1, 0.08, 0.07, 0.04, 0.01)
PLANS = ("none", "care_club_monthly", "care_club_annual")

# --------------------------------------------------------------------------------------------
# Survey themes (open answers)
# --------------------------------------------------------------------------------------------

#: Recurring themes in the open survey answers, and where they sit on the score scale.
THEMES: dict[str, str] = {
    "shipping": "slow shipping / late delivery (among detractors)",
    "navigation": "hard navigation, confusing checkout, cannot find things on the site (among detractors)",
    "support": "helpful support, friendly staff (among promoters)",
    "quality": "healthy, good-quality plants (among promoters; damaged plants among detractors)",
    "packaging": "careful, plastic-free packaging (among promoters)",
}

THEME_PHRASES: dict[str, tuple[str, ...]] = {
    "shipping": (
        "Delivery took nearly two weeks.",
        "It took ages to arrive.",
        "My parcel sat at the depot for five days.",
        "Shipping was really slow.",
        "It arrived a week later than promised.",
        "The courier kept rescheduling.",
        "Delivery was late and the poor plant was thirsty.",
        "Tracking said out for delivery for three days straight.",
        "Dispatch took forever.",
        "Still waiting on half of my order.",
        "Slow shipping, the slowest of any shop I use.",
        "The order turned up late, after the birthday it was meant for.",
        "Postage was expensive for how long it took.",
        "Took eleven days to get to me.",
    ),
    "navigation": (
        "I couldn't find the pet-safe filter anywhere.",
        "The website is confusing to navigate.",
        "Checkout kept sending me back to the basket.",
        "It was hard to find the care info on the product pages.",
        "Search only found pothos when I spelled it exactly right.",
        "The menu on my phone is a maze.",
        "Took me three goes to apply the discount code at checkout.",
        "I got lost somewhere between the shop and the blog.",
        "Far too many clicks to reach my account.",
        "The filters reset every time I pressed back.",
        "Confusing checkout, I nearly gave up.",
        "Could not work out where the pots were on the site.",
        "The site is a bit of a labyrinth.",
    ),
    "support": (
        "Priya in support was brilliant.",
        "Customer service sorted it in one email.",
        "The support team were so kind.",
        "They sent a replacement within two days, no fuss.",
        "Friendly staff and quick replies.",
        "They answered all my silly questions patiently.",
        "Support went above and beyond.",
        "Really helpful advice on the chat.",
        "The team even replied on a Sunday!",
        "Lovely people to deal with.",
        "Helpful support when my plant looked droopy.",
        "The staff clearly know their plants and were happy to help.",
    ),
    "quality": (
        "The plants were healthy and bigger than I expected.",
        "Gorgeous, healthy plant.",
        "My monstera is thriving.",
        "Lush and well rooted.",
        "Best quality plants I've bought online.",
        "Every leaf was perfect.",
    ),
    "quality_bad": (
        "It came with yellow leaves.",
        "The plant looked a bit sad and half the soil was gone.",
        "Two stems were snapped when I opened it.",
        "Smaller than the photo suggested.",
    ),
    "packaging": (
        "The packaging was plastic-free and clever.",
        "Wrapped so carefully, not a leaf out of place.",
        "Loved the paper packaging, all recyclable.",
        "The box was packed like a work of art.",
    ),
}

GENERIC_GOOD = (
    "Lovely shop.", "Would recommend.", "Will order again.", "Really happy.", "Great experience overall.",
    "Five stars from me.", "No complaints.", "My go-to plant shop now.", "Keep it up!", "Very pleased.",
)
GENERIC_MEH = (
    "It was fine.", "Okay, nothing special.", "Average.", "Mixed feelings.", "Not bad.",
    "Could be better.", "Decent enough.",
)
GENERIC_BAD = (
    "Disappointed.", "Not impressed.", "Would not order again.", "Expected more.", "Frustrating.",
)
OPENERS = ("", "", "", "Honestly, ", "To be fair, ", "Well, ", "Hmm. ", "So, ")
CLOSERS = ("", "", "", " Thanks.", " Cheers.", " x", " Overall ok.", " That's all.", " 🌿")

# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------

PLANTS = ("monstera", "pothos", "peace lily", "calathea", "fiddle leaf fig", "snake plant", "ZZ plant",
          "string of pearls", "philodendron", "spider plant")

GRATITUDE_COMMENTS = (
    "This really helped me, my {plant} is perking up again.",
    "Thank you! This saved my {plant}.",
    "Honestly this guide saved my {plant}, thank you so much.",
    "I printed this and stuck it on the fridge. So useful.",
    "Wish I'd found this a month ago. Thank you!",
    "This really helped me work out it was root rot.",
    "Followed the steps exactly and the new leaves on my {plant} are coming in healthy. Thank you!",
    "Downloaded it, read it twice, shared it with my mum. Brilliant.",
    "Clearest explanation of overwatering I have ever read. Thanks!",
    "My {plant} thanks you 🙏",
    "I was about to throw my {plant} away. So glad I read this first.",
    "Really grateful for this, the checklist at the end is gold.",
    "This helped so much. I finally understand what well-draining means.",
    "Thank you for making this free!",
    "Saved it to my phone so I can check it before every watering. Thank you.",
    "Cheers for this, the photos of healthy and rotten roots helped me a lot.",
    "I've been killing plants for years. This is the first thing that actually helped.",
    "So helpful. My {plant} has two new leaves since I changed how I water.",
    "Thank you thank you thank you. Rescued a {plant} I thought was gone.",
    "Such a kind, clear guide. It really helped me calm down and fix things.",
)

MEME_COMMENTS = ("😂", "this is me", "lol accurate", "too real", "🌿😅", "guilty", "my partner sent me this")
GIVEAWAY_COMMENTS = (
    "Entered! 🤞", "Fingers crossed", "Done ✔", "Pick me!!", "Would love this", "Entered, tagged my sister",
    "Me please 🙏", "Ooh yes", "Done and shared", "Need this in my life",
)
POST_COMMENTS = (
    "Love this!", "Gorgeous", "Where is that pot from?", "Need this in my life", "So pretty 😍",
    "Ha! Guilty.", "My shelf is jealous", "Adding to my wishlist", "What size is that one?",
    "That {plant} is stunning", "Goals", "Mine never looks this good", "Do you ship to Ireland?",
)
LEARNING_COMMENTS = (
    "Tried this last night and it worked first time.",
    "Can I do the same with a {plant}?",
    "Great tutorial, thanks.",
    "Clear and calm, exactly what I needed.",
    "How long before the roots show?",
    "I did this with my {plant} and it worked!",
    "Useful, bookmarked.",
    "Good tips, though my {plant} is stubborn.",
    "Wish I'd seen this before repotting mine.",
    "Nice one. More of these please.",
)
PRODUCT_COMMENTS = (
    "Does this come with a pot?", "Is this one pet safe?", "How tall is it roughly?",
    "Bought two, both thriving.", "When will this be back in stock?", "Is it okay in a bathroom?",
)

COMMUNITY_POSTS = (
    "My {plant} has brown crispy edges on the new leaves. Too much sun or not enough water?",
    "Just repotted my first {plant}, so proud of myself!",
    "Anyone know why my {plant} is getting so leggy?",
    "Tiny win: my {plant} cutting finally rooted!",
    "Best pet-safe plant for a dark hallway?",
    "Fungus gnats again. What actually works?",
    "Show us your windowsill! Here's mine after a year.",
    "How often do you water a {plant} in winter?",
    "Is it normal for a {plant} to drop a leaf after moving house?",
    "Looking for a plant swap near Leeds, anyone?",
    "My {plant} has tiny webs under the leaves. Spider mites?",
    "First time trying a moss pole. Tips welcome!",
    "Lost my old {plant} to root rot last month. Trying again, wish me luck.",
    "What grow light do you all use for a bookshelf?",
    "Confession: I have 31 plants and a tiny flat.",
    "Does anyone else talk to their plants or is it just me?",
)
MEMBER_REPLIES = (
    "Sounds like too much water to me. Let the top few centimetres dry out first.",
    "Mine did the same, a grow light fixed it within a month.",
    "Try bottom watering for a couple of weeks and see.",
    "Yellow sticky traps plus letting the soil dry out worked for me.",
    "Snake plants and ZZs are happy in dark corners.",
    "Congrats! It looks so happy.",
    "I had the same problem and the rescue guide here helped me a lot.",
    "Wipe the leaves and check underneath, mites love dry air.",
    "Give it a few weeks, they sulk after a move.",
    "Not just you, I sing to mine 😄",
    "Once every two weeks in winter for mine, but it depends on the light.",
    "Love it! Where did you get the shelf?",
    "Same here. Moving it away from the radiator helped.",
    "Ask in the Sunday swap thread, a few of us are in Yorkshire.",
    "Honestly, a moss pole changed my monstera's life.",
)
OP_THANKS = (
    "Thank you, that worked!", "Thanks all, trying this tonight.",
    "You lot are the best, it's perking up already.", "Thanks so much, really helpful.",
    "Brilliant, cheers!", "Thank you, I feel much less panicked now.",
)
BRAND_REPLIES = (
    "Great question! Our plant doctor suggests letting the soil dry out a little more between waterings.",
    "Thanks for sharing, this made our day 🌿",
    "Sorry to hear that! Could you send us a photo of the roots by DM?",
    "Lovely to see. Thank you for being part of the community!",
    "Good shout from everyone here. Our rescue guide covers this step by step.",
    "We'd suggest a brighter spot, but out of direct afternoon sun.",
    "Thank you! We'll pass this on to the team.",
    "Welcome to the club! Shout if you need anything.",
)
DMS = (
    "Hi, which plant would you recommend for a north-facing bathroom?",
    "Can you help me choose a plant for my dad's office?",
    "Is the {plant} safe for cats?",
    "What size pot should I get for a 12 cm {plant}?",
    "Hello! Could you recommend something low-maintenance for a student flat?",
    "My {plant} has spots on the leaves, can I send you a photo for advice?",
    "Do you have any advice for keeping plants alive in an office with no windows?",
    "Which of your plants would suit a bright kitchen?",
)
BRAND_DM_REPLIES = (
    "Hi! A ZZ plant or a snake plant would be perfect there.",
    "Of course, send it over and our plant doctor will take a look.",
    "Yes, that one is pet safe. Enjoy!",
    "We'd go one size up, so a 14 cm pot.",
    "Happy to help! Have a look at our pet-safe trio too.",
)
SUPPORT_LATE = (
    "My order hasn't arrived yet and it's been nine days.",
    "Where is my parcel? Tracking hasn't moved since Monday.",
    "Still no sign of my order, can you check?",
    "The delivery date keeps moving, what's going on?",
)
SUPPORT_OTHER = (
    "The pot arrived cracked.",
    "I think I was charged twice for my last order.",
    "Can I change my delivery address?",
    "The {plant} arrived with yellow leaves.",
    "How do I pause my Care Club box?",
    "The discount code didn't work at checkout.",
)
BRAND_SUPPORT_REPLIES = (
    "So sorry about that! We've sent a replacement today.",
    "Thanks for letting us know, we've chased the courier and will update you tomorrow.",
    "All sorted, you'll see the refund in 3 to 5 days.",
    "No problem, we've updated that for you.",
    "Sorry for the wait. Your parcel is on its way and should arrive tomorrow.",
)
REVIEWS_GOOD = (
    "Arrived healthy and well packed. Five stars.",
    "Exactly as pictured, lovely plant.",
    "Healthy roots, no pests, happy customer.",
    "Second one I've bought, both thriving.",
    "Bigger than I expected. Great value.",
)
REVIEWS_BAD = (
    "Took ages to arrive and two leaves were snapped.",
    "Smaller than I expected for the price.",
    "Fine plant but the delivery was very late.",
)
MENTIONS = (
    "Just got my @mossbrook order and everything is gorgeous",
    "Shoutout to @mossbrook for the care tips, my {plant} is alive!",
    "@mossbrook still waiting on my parcel...",
    "New {plant} from @mossbrook, meet the family",
    "If you want plants that actually survive, @mossbrook is the one",
    "Listening to the @mossbrook podcast while repotting. Peak Sunday.",
)

#: Customer texts with characters that must be escaped when rendered.
TRICKY_TEXTS = (
    "I <3 this pot",
    "Soil & pot combo is perfect",
    'She said "it\'s just a plant" 🙄',
    "<b>so</b> happy with it",
    'Rating: 5/5 <script>alert("hi")</script>',
    "Tom & Jerry's favourite shelf",
    "Is 'bright indirect' > 'medium light'?",
    "Pothos < monstera < fiddle leaf (in drama)",
)
#: Customer texts carrying personal details (for masking tests). Reserved example domains and
#: drama-range phone numbers only.
PII_TEXTS = (
    "Please call me on 07700 900461 about my order",
    "My email is jo.bloggs@example.com, can you send the invoice there?",
    "You can reach me at +44 7700 900982 after 5pm",
    "Email sam.p@example.org if the pot is out of stock",
    "Text me on 07700 900117 when it ships",
    "Contact: priya.k+plants@example.net",
)
