"""Reading text files row by row: encodings, line endings, quoted values over several lines,
CSV dialects and the batches rows are appended to DuckDB in. Used by staging; no store I/O."""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path

import pyarrow as pa

from afterclick.ingest._common import IngestError

#: The longest row read, in characters (a line, or the lines of one quoted value); longer rows
#: are quarantined as "line too long".
MAX_ROW_CHARS = 16 << 20
_CHUNK = 1 << 22
_BAD_BYTES = re.compile("[\udc80-\udcff]")  # bytes the encoding could not decode (surrogateescape)
_BARE_CR = re.compile("\r(?!\n)")
_DELIMITERS = (",", ";", "\t", "|")
_BATCH = 500_000

csv.field_size_limit(max(csv.field_size_limit(), MAX_ROW_CHARS + 1))


def _is_json(text: bytes | str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _fingerprint(path: Path) -> str:
    """SHA-256 of the file's bytes."""
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return h.hexdigest()


def _mb(chars: int) -> str:
    return f"{chars / (1 << 20):g} MB"


# -- reading lines --------------------------------------------------------------------------
class _Lines:
    """The physical lines of one text file, decoded, each with its line break (``\\n``).

    Only ``\\n`` ends a line (``\\r\\n`` too, as it ends in one); a carriage return on its own is
    a character of the line. Bytes the encoding cannot decode stay as lone surrogates
    (``surrogateescape``), so the line holding them can be set aside. A line longer than
    :data:`MAX_ROW_CHARS` is not kept: it is given as an empty line and listed in ``overlong``.
    """

    def __init__(self, path: Path, encoding: str | None):
        self.path = path
        self.encoding = encoding or "utf-8"
        self.overlong: dict[int, str] = {}  # line number -> its first characters
        self.undecodable = False  # whether any bytes so far could not be decoded

    def __iter__(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="surrogateescape")
        opener = gzip.open if self.path.name.lower().endswith(".gz") else open
        n, carry, start, skipping, preview = 0, "", True, False, ""
        try:
            with opener(self.path, "rb") as fh:
                while True:
                    raw = fh.read(_CHUNK)
                    text = decoder.decode(raw, final=not raw)
                    if start and text:
                        text, start = text.removeprefix("\ufeff"), False  # a byte-order mark
                    if not self.undecodable and not text.isascii() and _BAD_BYTES.search(text):
                        self.undecodable = True
                    parts = text.split("\n")
                    last = len(parts) - 1
                    for i, part in enumerate(parts):
                        if skipping:  # the rest of an overlong line
                            if i < last:
                                skipping = False
                                n += 1
                                self.overlong[n] = preview
                                yield "\n"
                            continue
                        carry = carry + part if carry else part
                        if i == last:
                            if len(carry) > MAX_ROW_CHARS:
                                skipping, preview, carry = True, carry[:200], ""
                            break
                        n += 1
                        if len(carry) > MAX_ROW_CHARS:
                            self.overlong[n] = carry[:200]
                            carry = ""
                            yield "\n"
                            continue
                        yield carry + "\n"
                        carry = ""
                    if not raw:
                        break
        except (OSError, EOFError, zlib.error) as exc:
            raise IngestError(f"{self.path}: cannot be read ({exc})") from None
        if skipping:
            self.overlong[n + 1] = preview
            yield ""
        elif carry:
            yield carry


def _shown_raw(text: str) -> str:
    """A line as the quarantine keeps it: without its line break, undecodable bytes as ``?``."""
    return _BAD_BYTES.sub("?", text.rstrip("\r\n"))


def _not_encoded(encoding: str | None) -> str:
    return f"bytes that are not {'UTF-8' if encoding in (None, 'utf-8', 'utf8') else encoding}"


_CR_IN_FIELD = "a carriage return (CR) inside an unquoted field"
_CSV_ERRORS = (
    ("new-line character seen in unquoted field", _CR_IN_FIELD),
    ("expected after", "badly quoted field"),
    ("unexpected end of data", "a quoted value is not closed before the end of the file"),
    ("NUL", "a NUL byte in the line"),
    ("field larger than field limit", None),
)


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    for needle, reason in _CSV_ERRORS:
        if needle in text:
            return reason or f"line too long (over {_mb(MAX_ROW_CHARS)})"
    return f"cannot be read as CSV ({text})"


class _CsvFile:
    """One CSV/TSV file as records: ``(first line, fields or None, problem, raw text)``."""

    def __init__(self, path: Path, delimiter: str, encoding: str | None):
        self.path, self.delimiter, self.encoding = path, delimiter, encoding
        self.lines = _Lines(path, encoding)

    def records(self) -> Iterator[tuple[int, list[str] | None, str | None, str]]:
        """Blank lines are skipped; a line without quotes is split as it is (the common case,
        and much faster); a line with a quote goes through Python's CSV reader in strict mode,
        which pulls the further lines of a quoted value spanning lines."""
        lines, d = self.lines, self.delimiter
        it = iter(lines)
        overlong = lines.overlong
        too_long = f"line too long (over {_mb(MAX_ROW_CHARS)})"
        pending: list[str] = []

        def feed():
            for more in it:
                pending.append(more)
                yield more

        n = 0
        for line in it:
            n += 1
            if '"' not in line and "\x00" not in line:
                body = line.removesuffix("\n")
                body = body.removesuffix("\r")
                if not body:
                    if n in overlong:
                        yield n, None, too_long, overlong[n] + "…"
                    continue  # a blank line
                if "\r" in body:
                    yield n, None, _CR_IN_FIELD, line
                elif lines.undecodable and _BAD_BYTES.search(body):
                    yield n, None, _not_encoded(self.encoding), line
                else:
                    yield n, body.split(d), None, line
                continue
            first = n
            pending[:] = [line]
            reader = csv.reader(chain((line,), feed()), delimiter=d, quotechar='"', doublequote=True, strict=True)
            try:
                fields, problem = next(reader), None
            except csv.Error as exc:
                fields, problem = None, _csv_problem(exc)
            n += reader.line_num - 1
            text = "".join(pending)
            if overlong and any(first <= k <= n for k in overlong):
                fields, problem = None, too_long
                text = next(overlong[k] for k in overlong if first <= k <= n) + "…"
            elif not fields and problem is None:
                continue
            if problem is None and lines.undecodable and _BAD_BYTES.search(text):
                fields, problem = None, _not_encoded(self.encoding)
            yield first, fields, problem, text

    def header(self) -> tuple[int, list[str]]:
        """The first record (the header) and the line it starts on."""
        for first, fields, problem, text in self.records():
            if problem is not None:
                if problem.startswith("bytes"):
                    problem = f"has {problem}; save the file as UTF-8 or name its encoding in a mapping file"
                raise IngestError(f"{self.path}: line {first} (the header) {problem}")
            return first, fields
        return 0, []


def _sniff_delimiter(path: Path, encoding: str | None) -> str:
    """The delimiter that splits the first lines into as many fields as the header (``,`` by default)."""
    sample = [line for line in islice(iter(_Lines(path, encoding)), 100) if line.strip()]
    if not sample:
        return ","
    best, best_score = ",", (0, 0)
    for d in _DELIMITERS:
        if d not in sample[0]:
            continue
        try:
            rows = list(csv.reader(sample, delimiter=d))
        except csv.Error:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows[1:]) + 1, width)
        if score > best_score:
            best, best_score = d, score
    return best


def _column_names(header: list[str]) -> list[str]:
    """The header's names, empty ones named ``column<n>``, repeated ones made unique (``name_1``)."""
    out: list[str] = []
    taken: set[str] = set()
    for i, name in enumerate(header):
        name = name if name.strip() else f"column{i + 1}"
        base, k = name, 0
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name)
        out.append(name)
    return out


class _Appender:
    """Rows appended to a temporary table through Arrow, a batch at a time."""

    def __init__(self, con, table: str, schema: pa.Schema):
        self.con, self.table, self.schema = con, table, schema
        self.rows: list[list] = [[] for _ in schema.names]
        self.created = False

    def add(self, *values) -> None:
        for col, v in zip(self.rows, values):
            col.append(v)
        if len(self.rows[0]) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if self.created and not self.rows[0]:
            return
        batch = pa.table([pa.array(c, t) for c, t in zip(self.rows, self.schema.types)], schema=self.schema)
        name = f"{self.table}_arrow"
        self.con.register(name, batch)
        try:
            verb = f"INSERT INTO {self.table}" if self.created else f"CREATE TEMP TABLE {self.table} AS"
            self.con.execute(f"{verb} SELECT * FROM {name}")
        finally:
            self.con.unregister(name)
        self.created = True
        self.rows = [[] for _ in self.schema.names]
