"""Ingestion: files (CSV, Parquet, JSON lines) plus an optional mapping, into the store."""

from afterclick.ingest.loader import (
    FileSummary,
    IngestError,
    IngestSummary,
    find_sources,
    ingest,
)
from afterclick.ingest.mapping import Mapping, MappingError, TableMapping, load_mapping

__all__ = [
    "FileSummary", "IngestError", "IngestSummary", "Mapping", "MappingError", "TableMapping",
    "find_sources", "ingest", "load_mapping",
]
