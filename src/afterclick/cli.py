"""The ``afterclick`` command line."""

from __future__ import annotations

import re
import signal
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from afterclick import __version__
from afterclick.__main__ import INTERRUPTED

app = typer.Typer(
    help=(
        "afterclick measures what happens after the click: whether marketing builds relationships "
        "(retention, trust, commitment, lifetime value) or just buys traffic.\n\n"
        "Start with `afterclick demo` to see a report on a synthetic brand, then "
        "`afterclick ingest YOUR_FOLDER --store brand.duckdb` and `afterclick report --store brand.duckdb`."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
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


class Size(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


class Brand(StrEnum):
    shop = "shop"
    b2b = "b2b"


class Grain(StrEnum):
    week = "week"
    month = "month"


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
    sections = build_sections(SectionContext(ws=ws, results={r.id: r for r in results}, template=template))
    return write_report(path, results, title=title, meta=meta, sections=sections)


@app.command()
def ingest(
    source: Annotated[Path, typer.Argument(help="A folder with one file per canonical table "
                                           "(events.csv, transactions.parquet, messages.jsonl…), or one file.")],
    store: StoreOpt = Path("afterclick.duckdb"),
    mapping: Annotated[Path | None, typer.Option(
        help="A TOML file that maps your file, column and event names onto the canonical ones "
             "(see docs/mapping.md).")] = None,
) -> None:
    """Load CSV, Parquet or JSON-lines files into the store.

    Every row is loaded, recognised as already stored, or quarantined with a reason; the summary
    adds up. Re-running with the same files adds nothing twice. If anything fails, the store is
    left exactly as it was.
    """
    from afterclick.store import Store

    with friendly_errors():
        with Store(store, on_wait=_waiting) as st:
            try:
                summary = _run_ingest(st, source, mapping)
            except BaseException:
                # a failed first ingest leaves no empty store behind: only a file this run made,
                # with no ingest in it, removed while this run still holds the write lock
                st.discard_if_new()
                raise
    _print_ingest(summary, store)


@app.command()
def kpis(
    store: StoreOpt = Path("afterclick.duckdb"),
    format: Annotated[Format, typer.Option("--format", "-f", help="table (terminal), json (stdout), "
                                           "csv or parquet (files in --out).")] = Format.table,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for csv/parquet/json files.")] = Path("kpis"),
    kpi_id: Annotated[list[str] | None, typer.Option("--id", help="Only this KPI (repeatable).")] = None,
    family: Annotated[str | None, typer.Option(help="Only this family, e.g. retention.")] = None,
    grain: GrainOpt = Grain.week,
    start: StartOpt = None,
    end: EndOpt = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the KPIs and their definitions.")] = False,
    snapshot: Annotated[bool, typer.Option(help="Keep the headline values in the store's history.")] = True,
    raw: RawOpt = False,
) -> None:
    """Compute the relationship KPIs and print or export them.

    Rates are fractions (0.25 = 25%). A KPI whose tables are missing is listed as skipped with
    the reason.
    """
    from afterclick.kpis import REGISTRY

    if list_only:
        table = Table(show_lines=True)
        table.add_column("id", no_wrap=True)
        for col in ("name", "needs", "definition"):
            table.add_column(col)
        for k in REGISTRY:
            table.add_row(k.id, k.name, ", ".join(k.needs), k.summary)
        out.print(table)
        return
    with friendly_errors():
        if not store.exists():
            raise fail(f"no store at {store}: run `afterclick ingest SOURCE --store {store}` first")
        ws, keep = _workspace(store, _params(grain, start, end), snapshot)
        with ws:
            try:
                results = _compute(ws, kpi_id or None, family)
            except KeyError as exc:
                raise fail(exc.args[0]) from None
            if keep:
                _keep_history(ws, results)
    from afterclick.export import results_json, write_results

    if format is Format.json:
        sys.stdout.write(results_json(results) + "\n")
    elif format is Format.table:
        from afterclick.report.format import format_value
        from afterclick.results import SpanKind

        table = Table()
        table.add_column("id", no_wrap=True)
        table.add_column("name", no_wrap=True)
        for col in ("value", "period"):
            table.add_column(col)
        whole = None
        for r in results:
            # a KPI not computed says so, and why, where its value would be
            value = format_value(r.value, r.unit) if r.ok else f"{r.status.value}: {shown(r.reason or '')}"
            period = ""
            if r.period is not None and r.ok:
                if r.period.kind is SpanKind.WHOLE:
                    period, whole = "whole period", r.period.label
                else:
                    period = r.period.label
            table.add_row(r.id, r.name, value, period)
        out.print(table)
        if whole:
            out.print(whole[:1].upper() + whole[1:] + ".", highlight=False)
    else:
        paths = write_results(results, out_dir, format.value, raw=raw)
        out.print(f"wrote {len(paths)} file(s) to {shown(out_dir)}/", highlight=False)


@app.command()
def report(
    store: StoreOpt = Path("afterclick.duckdb"),
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the HTML file.")] = Path(
        "afterclick-report.html"),
    title: Annotated[str, typer.Option(help="The report's title.")] = "Relationship review",
    grain: GrainOpt = Grain.week,
    start: StartOpt = None,
    end: EndOpt = None,
    currency: CurrencyOpt = None,
    snapshot: Annotated[bool, typer.Option(
        help="Keep the headline values in the store's history (off: the store is only read).")] = True,
) -> None:
    """Write the review report: one self-contained HTML file with interactive charts, safe to e-mail."""
    with friendly_errors():
        if not store.exists():
            raise fail(f"no store at {store}: run `afterclick ingest SOURCE --store {store}` first")
        ws, keep = _workspace(store, _params(grain, start, end), snapshot)
        with ws:
            results = _compute(ws)
            if keep:
                _keep_history(ws, results)
            path = _write_report(ws, results, out_path, title, currency)
    out.print(f"report written to {shown(path)} ({path.stat().st_size / 1e6:.1f} MB); open it in a browser.",
              highlight=False)


def _is_demo_store(path: Path, keep_files: Path | None) -> bool:
    """True when every ingest into ``path`` came from a demo run (safe to rebuild)."""
    import duckdb

    from afterclick.store import connect_duckdb

    try:
        with connect_duckdb(path, read_only=True) as con:
            sources = [s for (s,) in con.execute("SELECT DISTINCT source FROM ac_ingest_log").fetchall()]
    except duckdb.Error:
        return False  # not a store of ours, or unreadable: never delete it
    demo_dirs = {str(keep_files)} if keep_files else set()
    return all(Path(s).name.startswith("afterclick-demo-") or s in demo_dirs for s in sources)


@app.command()
def demo(
    size: Annotated[Size, typer.Option(help="small ≈ 200k events, medium ≈ 1M, large ≈ 10M.")] = Size.small,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same brand.")] = 7,
    store: StoreOpt = Path("afterclick-demo.duckdb"),
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the report.")] = Path(
        "afterclick-demo.html"),
    keep_files: Annotated[Path | None, typer.Option(
        help="Also keep the generated source files (Parquet) in this folder.")] = None,
    brand: Annotated[Brand, typer.Option(
        help="shop: Mossbrook, a shop with a community (B2C); b2b: Larchwood, a software vendor's "
             "leads, deals and subscriptions (--size does not apply).")] = Brand.shop,
) -> None:
    """Generate a synthetic brand, ingest it like real data, compute every KPI and write the report.

    The shop (18 months, seven tables) has planted truths (docs/demo.md): a campaign that wins
    clicks but keeps nobody, one with modest clicks and loyal customers, a liked-but-empty post
    beside a guide people save. The B2B brand plants a slow-but-strong webinar series, a paid
    campaign of many MQLs that rarely convert, leads left untouched for a week, and rejected leads
    that buy anyway. The demo store is rebuilt from scratch each time; a store holding other data
    is never touched.
    """
    from afterclick.demo import write_demo
    from afterclick.demo.b2b import write_b2b_demo
    from afterclick.store import Store, write_lock

    started = time.perf_counter()
    # the whole rebuild holds the store's write lock: no other run writes between the check and
    # the deletion, nor into the new store before the demo's ingest
    with friendly_errors(), write_lock(store, on_wait=_waiting):
        if store.exists() and not _is_demo_store(store, keep_files):
            raise fail(f"{store} holds data that the demo did not make; the demo rebuilds its store "
                       "from scratch, so choose another --store (or delete that file yourself)")
        for suffix in ("", ".wal"):
            Path(str(store) + suffix).unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix="afterclick-demo-") as tmp:
            folder = keep_files or Path(tmp)
            if brand is Brand.b2b:
                with err.status(f"generating the B2B demo brand (seed {seed})…"):
                    write_b2b_demo(folder, seed=seed)
            else:
                with err.status(f"generating the {size.value} demo brand (seed {seed})…"):
                    write_demo(folder, size=size.value, seed=seed)
            with Store(store) as st:
                summary = _run_ingest(st, folder, None)
        _print_ingest(summary, store)
        ws, _ = _workspace(store, {}, True)
        with ws:
            results = _compute(ws)
            _keep_history(ws, results)
            # Mossbrook sells in pounds sterling, Larchwood in dollars (docs/demo.md)
            title, currency = (("B2B demo brand: relationship review", "$") if brand is Brand.b2b
                               else ("Demo brand: relationship review", "£"))
            path = _write_report(ws, results, out_path, title, currency)
    computed = sum(r.ok for r in results)
    out.print(f"{computed} of {len(results)} KPIs computed in {time.perf_counter() - started:.0f} s; "
              f"store {shown(store)}; report written to {shown(path)}. Open it in a browser.", highlight=False)


@app.command()
def quarantine(
    store: StoreOpt = Path("afterclick.duckdb"),
    limit: Annotated[int, typer.Option(help="Show at most this many rows.")] = 50,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write all rows to this CSV file.")] = None,
    raw: RawOpt = False,
) -> None:
    """Show the rows that ingest set aside, with the reason for each."""
    from afterclick.store import Store

    with friendly_errors():
        with Store(store, read_only=True, on_wait=_waiting) as st:
            q = st.quarantine()
    if out_file:
        from afterclick.export import write_csv

        write_csv(q, out_file, raw=raw)
        out.print(f"wrote {len(q):,} rows to {shown(out_file)}", highlight=False)
        return
    table = Table("table", "file", "where", "reason", "raw")
    for row in q.head(limit).itertuples():
        table.add_row(shown(row.table_name), shown(Path(row.source_file).name), shown(row.row_ref),
                      shown(row.reason), shown((row.raw or "")[:80]))
    out.print(table)
    out.print(f"{len(q):,} quarantined row(s) in all.")


@app.command("clv")
def clv_export(
    store: StoreOpt = Path("afterclick.duckdb"),
    out_file: Annotated[Path, typer.Option(
        "--out", "-o", help="Where to write one row per customer: .csv or .parquet (by the suffix).")] = Path(
        "customers-clv.csv"),
    start: StartOpt = None,
    end: EndOpt = None,
    raw: RawOpt = False,
) -> None:
    """Export each buyer's predicted value: one row per customer, for a CRM or a spreadsheet.

    Columns: customer_id, frequency (repeat purchase days), recency and T (weeks), monetary_value
    (mean repeat order), revenue to date, orders, p_alive (probability still a customer),
    purchases_12m (expected purchases in the next 12 months), order_value (expected), clv_12m
    (predicted 12-month value, discounted 1% a month), clv_lifetime (36 months), segment and
    acquisition campaign_id. Models: BG/NBD and Gamma-Gamma fitted on this store's transactions.
    """
    if out_file.suffix.lower() not in (".csv", ".parquet"):
        raise fail(f"--out must end in .csv or .parquet, not {out_file.name!r}")
    with friendly_errors():
        if not store.exists():
            raise fail(f"no store at {store}: run `afterclick ingest SOURCE --store {store}` first")
        ws, _ = _workspace(store, _params(Grain.week, start, end), False)
        with ws:
            with err.status("fitting the lifetime-value models…"):
                r = ws.kpi("value.predicted_clv")
        if not r.ok or r.rows is None:
            raise fail(f"cannot predict customer value: {r.reason or '; '.join(r.notes)}")
        rows = r.rows.drop(columns=[c for c in r.rows.columns if c.startswith("_")])
        if out_file.suffix.lower() == ".csv":
            from afterclick.export import write_csv

            write_csv(rows, out_file, raw=raw)
        else:
            rows.to_parquet(out_file, index=False)
    for note in r.notes:
        err.print(shown(note), highlight=False)
    out.print(f"wrote {len(rows):,} customers to {shown(out_file)}; mean predicted 12-month value "
              f"{r.value:,.2f}")


@app.callback(invoke_without_command=True)
def main(version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False) -> None:
    if version:
        out.print(f"afterclick {__version__}")
        raise typer.Exit()


class AttributionModel(StrEnum):
    all = "all"
    markov = "markov"
    shapley = "shapley"
    heuristics = "heuristics"


@app.command()
def attribution(
    paths_csv: Annotated[Path, typer.Argument(
        metavar="PATHS.csv", help="Aggregated paths as ChannelAttribution writes them: path ('a > b'), "
        "total_conversions, and optionally total_conversion_value and total_null.")],
    model: Annotated[AttributionModel, typer.Option(
        "--model", "-m", help="markov (exact removal effects), shapley (simplified), heuristics "
        "(first, last, linear, position-based) or all, side by side.")] = AttributionModel.all,
    sep: Annotated[str, typer.Option(help="What separates channels in a path.")] = " > ",
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the table to this CSV file.")] = None,
    raw: RawOpt = False,
) -> None:
    """Credit channels with conversions and value from a ChannelAttribution-format paths file.

    One row per channel. The Markov model is solved exactly (no simulation), so it sits within the Monte-Carlo noise of ChannelAttribution's markov_model.
    """
    import pandas as pd

    from afterclick import attribution as attr

    if not paths_csv.exists():
        raise fail(f"no file at {paths_csv}: give a CSV with columns path, total_conversions, "
                   "total_conversion_value, total_null")
    try:
        ps = attr.parse_paths(pd.read_csv(paths_csv), sep=sep, where=str(paths_csv))
        if model is AttributionModel.markov:
            table = attr.markov(ps)
        elif model is AttributionModel.shapley:
            table = attr.shapley(ps)
        elif model is AttributionModel.heuristics:
            table = attr.heuristics(ps)
        else:
            long = attr.attribute(ps)
            cols = [c for c in ("conversions", "value") if c in long.columns]
            table = long.pivot(index="channel", columns="model", values=cols)
            table.columns = [f"{m}_{c}" for c, m in table.columns]
            table = table[[f"{m}_{c}" for c in cols for m in attr.MODELS]].reset_index()
    except (ValueError, TypeError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise fail(str(exc).splitlines()[0]) from None
    if out_file:
        from afterclick.export import write_csv

        write_csv(table, out_file, raw=raw)
    # side by side, one terminal table per measure keeps the columns readable
    side = {AttributionModel.all: attr.MODELS, AttributionModel.heuristics: attr.HEURISTICS}.get(model, ())
    measures = [c for c in ("conversions", "value") if side and f"{side[0]}_{c}" in table]
    views = [(m, ["channel", *(f"{x}_{m}" for x in side)]) for m in measures] or [(None, list(table.columns))]
    for measure, cols in views:
        view = Table(title=measure)
        for col in cols:
            name = col.removesuffix(f"_{measure}") if measure else col
            view.add_column(shown(name.replace("_", " ")), justify="left" if col == "channel" else "right")
        digits = {c: 4 if "effect" in c else 0 if c.endswith("value") else 2 for c in cols}
        for rec in table[cols].itertuples(index=False):
            view.add_row(shown(rec[0]), *(f"{v:,.{digits[c]}f}" for c, v in zip(cols[1:], rec[1:], strict=True)))
        out.print(view)
    if out_file:
        out.print(f"wrote {len(table)} rows to {shown(out_file)}", highlight=False)


# `init` and `goals` register themselves on `app` (goals, benchmarks and templates)
import afterclick.cli_goals  # noqa: E402,F401
import afterclick.cli_experiments  # noqa: E402,F401
import afterclick.cli_monitor  # noqa: E402,F401  (`alerts`: KPI series judged, alert rules evaluated)
