"""The sample Prometheus and Grafana files in docs/monitoring/ use only metrics
Backdrop exports, so a renamed metric cannot silently empty a dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY, generate_latest

import backdrop.metrics  # noqa: F401 - declares the metrics

MONITORING = Path(__file__).resolve().parent.parent / "docs" / "monitoring"
NAME = re.compile(r"\bbackdrop_[a-z_]+")


def _exported() -> set[str]:
    text = generate_latest(REGISTRY).decode()
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE backdrop_"):
            _, _, name, kind = line.split()
            names.add(name)
            if kind == "histogram":
                names.update(f"{name}_{suffix}" for suffix in ("bucket", "count", "sum"))
    return names


def test_the_grafana_dashboard_queries_exported_metrics():
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in expressions for name in NAME.findall(expr)}
    assert len(used) >= 7
    assert used <= _exported(), used - _exported()


def test_the_alerts_and_scrape_config_fit_together():
    alerts = yaml.safe_load((MONITORING / "backdrop-alerts.yml").read_text())
    rules = [rule for group in alerts["groups"] for rule in group["rules"]]
    used = {name for rule in rules for name in NAME.findall(rule["expr"])}
    assert used and used <= _exported(), used - _exported()
    scrape = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert {job["metrics_path"] for job in scrape["scrape_configs"]} == {"/metrics"}
    assert scrape["rule_files"] == ["backdrop-alerts.yml"]
