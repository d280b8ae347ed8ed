"""What every ``afterclick`` command shares: the consoles, safe printing, one-line errors, the
options, the period parameters, opening a workspace, computing KPIs with a progress bar, keeping
the history and writing the report."""

from __future__ import annotations

import re
import signal
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from afterclick import __version__
from afterclick.core.grain import Grain as CalendarGrain
from afterclick.core.interrupt import INTERRUPTED

# no emoji codes: ":thumbs_up:" in a file name is text
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)

# C0 and C1 controls (ESC starts the sequences that move the cursor, recolour or retitle the
# terminal) and the bidi marks and overrides that reorder what follows them on screen
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(value: object) -> str:
    """``value`` as text safe to print: controls written as escapes (``\\x1b``, ``\\u202e``) and
    Rich markup escaped, so that ``[/b]`` in a file name is shown, not read as a tag.

    Everything printed that comes from the data, the file system or an exception goes through here.
    """
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))
    return escape(text)

StoreOpt = Annotated[
    Path, typer.Option("--store", "-s", help="The DuckDB file that holds the data (created by ingest).")
]

BackendOpt = Annotated[str, typer.Option(
    "--backend", help="Where the KPIs run. duckdb (default): in the store itself. A Spark master runs them on "
    "Spark, the store staying the source of truth: local[N] (this machine), spark://HOST:PORT (a standalone "
    "cluster), yarn, k8s://URL, or spark (the session spark-submit or the platform, e.g. Databricks, "
    "provides). Models fit on this machine, on the sufficient statistics Spark returns.")]
SparkStageOpt = Annotated[Path | None, typer.Option(
    "--spark-stage", help="With a Spark backend: a folder every executor can read (a shared mount, "
    "/dbfs/..., a mounted bucket) where the store's tables are written as Parquet. Default: a temporary "
    "folder on this machine, enough for local[N] and a cluster on one machine.")]
SparkDatabaseOpt = Annotated[str | None, typer.Option(
    "--spark-database", help="With a Spark backend: read the canonical tables from this Spark database "
    "instead of staging them (they were loaded there under their canonical names).")]
SparkConfOpt = Annotated[list[str] | None, typer.Option(
    "--spark-conf", help="A Spark setting KEY=VALUE for the session (repeatable), e.g. "
    "spark.executor.memory=4g.")]


class Size(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


class Brand(StrEnum):
    shop = "shop"
    b2b = "b2b"


#: The grains a KPI run takes (``Params.grain``), named by the one ``core.grain.Grain``.
Grain = StrEnum("Grain", [(g.value, g.value) for g in (CalendarGrain.WEEK, CalendarGrain.MONTH)])


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one plain line on stderr and leave with ``code``."""
    err.print(f"[bold red]error:[/] {shown(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _on_ctrl_c(handler):
    """Set what Ctrl-C does and return what it did (``None`` off the main thread: left as is)."""
    try:
        return signal.signal(signal.SIGINT, handler)
    except ValueError:
        return None


@contextmanager
def friendly_errors():
    from afterclick.ingest import IngestError, MappingError
    from afterclick.store import StoreError

    # a KeyboardInterrupt here, so that an open store rolls back before the line is printed
    # (start-up sets a handler that leaves at once: see afterclick.__main__)
    before = _on_ctrl_c(signal.default_int_handler)
    try:
        yield
    except (IngestError, MappingError, StoreError) as exc:
        lines = str(exc).splitlines() or [type(exc).__name__]
        for line in lines[1:]:
            err.print(f"[bold red]error:[/] {shown(line)}", highlight=False, soft_wrap=True)
        raise fail(lines[0]) from None
    except KeyboardInterrupt:
        raise fail(INTERRUPTED, 130) from None
    finally:
        if before is not None:
            _on_ctrl_c(before)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
    )


def _params(grain: Grain, start: datetime | None, end: datetime | None) -> dict:
    def utc(d: datetime | None) -> datetime | None:
        return None if d is None else (d if d.tzinfo else d.replace(tzinfo=UTC))

    start, end = utc(start), utc(end)
    if start is not None and end is not None and start >= end:
        raise fail(f"--start {start:%Y-%m-%d} is not before --end {end:%Y-%m-%d}: the review period is "
                   "empty (the end is exclusive)")
    return {"grain": grain.value, "start": start, "end": end}


GrainOpt = Annotated[Grain, typer.Option(help="Period for cohorts, lifecycle and trends.")]
StartOpt = Annotated[
    datetime | None, typer.Option(help="Review period start (UTC, inclusive), e.g. 2026-01-01.")
]
EndOpt = Annotated[datetime | None, typer.Option(help="Review period end (UTC, exclusive).")]
RawOpt = Annotated[bool, typer.Option(
    "--raw", help="Write CSV text cells exactly as stored. By default a cell a spreadsheet would run as a "
                  "formula (starting with = + - @, tab or carriage return) gets a leading ' (OWASP's advice).")]
CurrencyOpt = Annotated[str | None, typer.Option(
    help="Currency of the amounts in transactions and spend, shown beside money values: a symbol "
         "(£, $, €) or an ISO code (EUR).")]


def _run_ingest(store, source: Path, mapping: Path | None):
    from afterclick.ingest import ingest

    with _progress() as bar:
        task = bar.add_task("ingesting", total=None)

        def report(msg: str, step: int, total: int) -> None:
            bar.update(task, description=shown(msg), completed=step, total=total)

        return ingest(store, source, mapping, progress=report)


def _waiting(message: str) -> None:
    """The one line a command prints when another run holds the store and it waits."""
    err.print(shown(message), highlight=False, soft_wrap=True)


def _workspace(path: Path, params: dict, keep_history: bool):
    """A workspace on ``path`` and whether this run's KPI values go into the store's history.

    Opened for writing only when they do (text scores are then kept too); a read-only store is
    read, and says so in one line.
    """
    from afterclick.kpis.base import Params
    from afterclick.store import Store, StoreReadOnly
    from afterclick.workspace import Workspace

    if keep_history:
        try:
            return Workspace(Store(path, on_wait=_waiting), Params(**params)), True
        except StoreReadOnly as exc:
            err.print(f"note: {shown(str(exc))}; reading it without keeping this run's KPI values "
                      "in its history", highlight=False, soft_wrap=True)
    return Workspace(Store(path, read_only=True, on_wait=_waiting), Params(**params)), False


def _on_backend(ws, backend: str, stage: Path | None = None, database: str | None = None,
                conf: list[str] | None = None):
    """``ws`` itself on DuckDB; on a Spark master, a workspace whose KPIs run there over the same
    tables (``ws``'s store keeps the history)."""
    from afterclick.backends import is_spark, spark_workspace

    if backend.strip().lower() == "duckdb":
        return ws
    if not is_spark(backend):
        ws.close()
        raise fail(f"--backend {shown(backend)!r} is not known: use duckdb, or a Spark master such as local[2], "
                   "spark://HOST:7077, yarn or spark")
    settings = {}
    for item in conf or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            ws.close()
            raise fail(f"--spark-conf {shown(item)!r} is not KEY=VALUE")
        settings[key.strip()] = value.strip()
    import atexit

    from afterclick.backends import stop_spark

    atexit.register(stop_spark)
    with err.status(f"staging the tables to Spark ({shown(backend)})…"):
        try:
            return spark_workspace(ws.store, backend, stage=stage, database=database, params=ws.params,
                                   conf=settings)
        except Exception as exc:  # noqa: BLE001 - py4j, the JVM and the OS: one line for all
            ws.close()
            why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise fail(f"cannot run on Spark ({shown(backend)}): {shown(why)}") from None


def _keep_history(ws, results) -> None:
    """Save the run's headline values; a full disk costs the history, not the command."""
    import duckdb

    from afterclick.store import disk_full

    try:
        ws.snapshot(results)
    except duckdb.Error as exc:
        if not disk_full(exc):
            raise
        err.print("note: no space left on the store's disk; this run's KPI values were not kept in "
                  "its history", highlight=False, soft_wrap=True)


def _file_label(path: str, source: str) -> str:
    """A file (or a pattern such as by-day/*.csv) as the person named it: from the source folder."""
    p, src = Path(path), Path(source)
    try:
        return p.relative_to(src).as_posix() if src.is_dir() else p.name
    except ValueError:
        return p.name


def _print_ingest(summary, store: Path) -> None:
    # everything shown below comes from the data or the file system: through shown()
    table = Table(title=f"Ingest {summary.ingest_id} from {shown(summary.source)}", title_justify="left")
    filtered = summary.filtered > 0  # a mapping's where filter left rows out: a column of its own
    cols = ("table", "file", "read", "loaded", "already stored", *(("left out",) if filtered else ()), "quarantined")
    # nothing shortened to "1,083,8…" on a narrow terminal: each column is at least as wide as
    # its widest value (headers of two words wrap instead)
    widest = len(f"{summary.rows_read:,}")
    for col in cols:
        if col in ("table", "file"):
            table.add_column(col, overflow="fold")
        else:
            table.add_column(col, justify="right", overflow="fold", min_width=widest)
    for f in summary.files:
        table.add_row(shown(f.table), shown(_file_label(f.path, summary.source)), f"{f.rows_read:,}", f"{f.loaded:,}",
                      f"{f.already_stored:,}", *((f"{f.filtered:,}",) if filtered else ()), f"{f.quarantined:,}")
    table.add_row("[b]total", "", f"[b]{summary.rows_read:,}", f"[b]{summary.loaded:,}",
                  f"[b]{summary.already_stored:,}", *((f"[b]{summary.filtered:,}",) if filtered else ()),
                  f"[b]{summary.quarantined:,}")
    out.print(table)
    for f in summary.files:
        name = shown(_file_label(f.path, summary.source))
        if f.note:
            out.print(f"  {name}: {shown(f.note)}", highlight=False)
        if f.groups is not None:
            out.print(f"  {name}: {f.loaded:,} line(s) loaded as {f.groups:,} {shown(f.table)} row(s) (group_by)",
                      highlight=False)
        for reason, n in f.reasons.items():
            out.print(f"  {name}: {n:,} row(s) quarantined: {shown(reason)}", highlight=False)
        if f.unknown_events:
            names = ", ".join(f"{shown(e)} ({n:,})" for e, n in list(f.unknown_events.items())[:8])
            more = len(f.unknown_events) - 8
            out.print(f"  {name}: kept {sum(f.unknown_events.values()):,} event(s) with names outside the "
                      f"vocabulary: {names}{f' and {more} more' if more > 0 else ''}; map them with --mapping",
                      highlight=False)
        if f.unknown_goals:
            names = ", ".join(f"{shown(e)} ({n:,})" for e, n in list(f.unknown_goals.items())[:8])
            out.print(f"  {name}: kept {sum(f.unknown_goals.values()):,} content item(s) whose goal is not an "
                      f"event name afterclick knows: {names}", highlight=False)
        if f.ignored_columns:
            out.print(f"  {name}: ignored column(s) not in the {shown(f.table)} table: "
                      f"{', '.join(shown(c) for c in f.ignored_columns)}", highlight=False)
    for ignored in summary.ignored_files:
        out.print(f"  ignored file {shown(ignored)}: not named after a canonical table", highlight=False)
    status = "adds up" if summary.adds_up else "DOES NOT ADD UP"
    left_out = f"{summary.filtered:,} left out by the mapping's filter + " if filtered else ""
    out.print(f"{summary.rows_read:,} rows read = {summary.loaded:,} loaded + {summary.already_stored:,} "
              f"already stored + {left_out}{summary.quarantined:,} quarantined ({status}).", highlight=False)
    if any(r.startswith("unparsable timestamp") for f in summary.files for r in f.reasons):
        out.print("Timestamps are read as ISO 8601 (2026-01-31, 2026-01-31 14:05, 2026-01-31T14:05:00Z); "
                  "for another way of writing them (31/01/2026 14:05, epoch seconds…) give a mapping file "
                  "with timestamp_format (see docs/mapping.md).", highlight=False)
    if summary.quarantined:
        out.print(f"See the reasons row by row with: afterclick quarantine --store {shown(store)}",
                  highlight=False)


def _compute(ws, ids=None, family=None):
    with _progress() as bar:
        task = bar.add_task("computing KPIs", total=None)

        def report(k, i, n):
            bar.update(task, description=f"computing {k.id}", completed=i, total=n)

        results = ws.kpis(ids, family=family, progress=report)
        bar.update(task, completed=len(results))
    return results


def _write_report(ws, results, path: Path, title: str, currency: str | None = None,
                  template: str | None = None) -> Path:
    from afterclick.report import write_report
    from afterclick.report.sections import SectionContext, build_sections

    p = ws.params
    meta = {
        "store": ws.store.location, "period_start": p.start, "period_end": p.end,
        "row_counts": ws.store.counts(), "generated_at": datetime.now(UTC), "version": __version__,
        "currency": currency,
    }
    sections = build_sections(SectionContext(ws=ws, results={r.id: r for r in results}, template=template,
                                              options={"currency": currency}))
    from afterclick.goals.templates import (
        report_order,  # a template, or the one goals.toml beside the store names
    )

    return write_report(path, results, title=title, meta=meta, sections=sections,
                        order=report_order(ws.store.location, template))
