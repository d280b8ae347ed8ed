"""Alert rules with per-KPI settings ([[series]]), exit codes and the webhook (a local HTTP server)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_monitor_wiring import planted  # noqa: F401  (the NPS store with a level shift in Sep 2025)
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.monitor import MinMagnitude, RulesError
from afterclick.monitor.alerts import load_rule_file
from afterclick.monitor.webhook import WebhookError, post_alerts

runner = CliRunner()
FALLING = ('[[rule]]\nkpi = "advocacy.nps"\nchecks = ["change_point"]\ndirection = "worse"\n'
           'severity = "critical"\nname = "NPS falling"\n')


class _Hook:
    """A webhook on 127.0.0.1 that keeps what it was sent and answers ``status``."""

    def __init__(self, status: int = 200):
        self.bodies: list[tuple[str, dict]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.bodies.append((self.headers["Content-Type"], json.loads(body)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    h = _Hook()
    yield h
    h.close()


def _alerts(store, rules_path, *extra):
    return runner.invoke(app, ["alerts", "--store", str(store), "--rules", str(rules_path),
                               "--kpi", "advocacy.nps", *extra])


def test_series_tables_give_each_kpi_its_settings(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(FALLING + '[[series]]\nkpi = "advocacy.nps"\nmin_magnitude = 0.25\nrelative = true\n'
                    'min_n = 150\ngrain = "week"\npenalty_factor = 2.5\n', encoding="utf-8")
    rs = load_rule_file(path)
    s = rs.settings_for("advocacy.nps")
    assert s.min_magnitude == MinMagnitude(0.25, relative=True) and s.min_n == 150 and s.grain == "week"
    js = s.judge_settings()
    assert js.min_n == 150 and js.penalty_factor == 2.5 and js.min_magnitude == MinMagnitude(0.25, True)
    assert rs.settings_for("advocacy.csat").judge_settings().min_magnitude is None  # the unit's default


def test_series_table_problems_are_listed_at_once(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(FALLING + '[[series]]\nmin_n = -1\ngrain = "hour"\nsize = 3\n'
                    '[[series]]\nkpi = "advocacy.nps"\n[[series]]\nkpi = "advocacy.nps"\n', encoding="utf-8")
    with pytest.raises(RulesError) as exc:
        load_rule_file(path)
    assert exc.value.problems == (
        "series 1: kpi is missing (a KPI id such as advocacy.csat)",
        "series 1: unknown field(s) size (fields: grain, kpi, min_magnitude, min_n, penalty_factor, relative)",
        "series 1: min_n must be a number ≥ 0, not -1",
        "series 1: grain 'hour' is not one of day, week, month",
        "series 3 (advocacy.nps): this KPI already has a [[series]] table",
    )


def test_exit_1_when_a_rule_fires_and_0_when_series_settings_silence_it(planted, tmp_path):  # noqa: F811
    rules = tmp_path / "rules.toml"
    rules.write_text(FALLING, encoding="utf-8")
    fired = _alerts(planted, rules)
    assert fired.exit_code == 1, fired.output
    assert "[critical]" in fired.stdout and "NPS falling" in fired.stdout
    # the same shift (45 → 10 points of NPS) is below a minimum magnitude of 40 points
    rules.write_text(FALLING + '[[series]]\nkpi = "advocacy.nps"\nmin_magnitude = 40\n', encoding="utf-8")
    quiet = _alerts(planted, rules)
    assert quiet.exit_code == 0, quiet.output
    assert "no alert fired" in quiet.stdout and "level shift" not in quiet.stdout
    # months with fewer answers than min_n are shown, never flagged (the shift itself is a level)
    rules.write_text(FALLING + '[[series]]\nkpi = "advocacy.nps"\nmin_n = 1000\n', encoding="utf-8")
    thin = _alerts(planted, rules, "--format", "json")
    assert thin.exit_code in (0, 1)
    [series] = json.loads(thin.stdout)["series"]
    assert any("fewer than 1000" in n for n in series["notes"])
    assert not [f for f in series["flags"] if f["kind"] != "level_shift"]


def test_webhook_receives_the_alerts_as_json(planted, tmp_path, hook):  # noqa: F811
    rules = tmp_path / "rules.toml"
    rules.write_text(FALLING, encoding="utf-8")
    result = _alerts(planted, rules, "--webhook", hook.url)
    assert result.exit_code == 1, result.output
    [(ctype, body)] = hook.bodies
    assert ctype.startswith("application/json")
    assert body["fired"] is True
    [alert] = body["alerts"]
    assert alert["rule"] == "NPS falling" and alert["severity"] == "critical"
    assert "level shift since Sep 2025" in alert["sentence"]
    assert "posted 1 alert(s) to the webhook (HTTP 200)" in result.stderr


def test_no_post_when_nothing_fires(planted, tmp_path, hook):  # noqa: F811
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nkpi = "advocacy.nps"\nchecks = ["above"]\nabove = 90\n', encoding="utf-8")
    result = _alerts(planted, rules, "--webhook", hook.url)
    assert result.exit_code == 0 and hook.bodies == []


def test_a_failing_webhook_is_one_line_without_its_token(planted, tmp_path):  # noqa: F811
    bad = _Hook(status=500)
    try:
        with pytest.raises(WebhookError, match=r"^webhook at http://127\.0\.0\.1:\d+ answered 500"):
            post_alerts(bad.url, {"alerts": []})
        rules = tmp_path / "rules.toml"
        rules.write_text(FALLING, encoding="utf-8")
        result = _alerts(planted, rules, "--webhook", bad.url)
    finally:
        bad.close()
    assert result.exit_code == 1
    lines = [ln for ln in result.stderr.splitlines() if "webhook" in ln]
    assert len(lines) == 1 and "answered 500" in lines[0] and "secret-token" not in lines[0]
    with pytest.raises(WebhookError, match="not an http"):
        post_alerts("file:///etc/passwd", {})


def test_min_n_on_a_series_without_counts_is_said(demo_ws):
    from afterclick.monitor.review import review

    rules = load_rule_file({"rule": [{"kpi": "value.active_buyers", "checks": ["anomaly"]}],
                            "series": [{"kpi": "value.active_buyers", "min_n": 30}]})
    r = review(demo_ws, ["value.active_buyers"], rules)
    assert any("min_n 30 does not apply" in n for n in r.judgements["value.active_buyers"].notes)
