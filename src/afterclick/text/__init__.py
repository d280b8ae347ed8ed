"""Text scoring (sentiment and relationship signals) and themes of open-ended feedback."""

from afterclick.text.scoring import COLUMNS, DefaultScorer, get_scorer, score_texts
from afterclick.text.signals import SIGNALS

__all__ = ["COLUMNS", "SIGNALS", "DefaultScorer", "get_scorer", "score_texts"]
