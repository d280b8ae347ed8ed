"""Goals, cited benchmarks and industry templates.

* :func:`load_goals` reads a TOML goals file, listing every problem at once with its line;
  :func:`evaluate` judges each goal on a workspace with the KPI's interval.
* :func:`load_benchmarks` reads the shipped, cited benchmark rows (and a user's own file);
  :func:`compare` sets a KPI beside a row, like for like only when the definitions match.
* :data:`TEMPLATES` bundles KPI ids, suggested goals and benchmark rows per industry;
  :func:`goals_text` writes a template's goals file.
"""

from afterclick.goals._files import FileProblems, Issue
from afterclick.goals.attainment import Attainment, Estimate, judge, tensions
from afterclick.goals.benchmarks import (
    KPI_DEFINITION_KEYS,
    Benchmark,
    Comparison,
    compare,
    load_benchmarks,
)
from afterclick.goals.evaluate import GoalReview, evaluate
from afterclick.goals.spec import Goal, Goals, Horizon, load_goals, parse_goals
from afterclick.goals.templates import TEMPLATES, goals_text

__all__ = [
    "KPI_DEFINITION_KEYS", "TEMPLATES", "Attainment", "Benchmark", "Comparison", "Estimate", "FileProblems",
    "Goal", "GoalReview", "Goals", "Horizon", "Issue", "compare", "evaluate", "goals_text", "judge",
    "load_benchmarks", "load_goals", "parse_goals", "tensions",
]
