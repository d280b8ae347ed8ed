"""The review report: one self-contained HTML file, its narrative, and the helpers they share."""

from afterclick.core.format import format_value
from afterclick.report.html import ReportMeta, render_report, write_report
from afterclick.report.narrative import headline, sentences
from afterclick.report.pii import mask_pii

__all__ = ["ReportMeta", "format_value", "headline", "mask_pii", "render_report", "sentences", "write_report"]
