"""`backdrop dashboards …` (SPEC 11): Spotlight import, list, show, flags,
and an export that imports back into another database unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from backdrop import cli

SPOTLIGHT = Path(__file__).parent / "core" / "dashboards" / "spotlight_carers.json"
DATA_TYPES = ("transactions-by-channel", "journey", "kpi", "realtime")


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()

    def invoke(*args, database="cli", code=0):
        env = {"BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/{database}.db"}
        result = runner.invoke(cli.main, list(args), env=env)
        assert result.exit_code == code, result.output
        return result

    return invoke


def _data_sets(run, database):
    for data_type in DATA_TYPES:
        run(
            "data-sets",
            "create",
            f"ca-{data_type}",
            "data_group=carers-allowance",
            f"data_type={data_type}",
            database=database,
        )


def test_spotlight_import_reports_the_unknown_module(run):
    _data_sets(run, "cli")
    result = run("dashboards", "import", "--spotlight", str(SPOTLIGHT))
    assert "created carers-allowance (6 tiles)" in result.stdout
    assert "modules[4]: unknown module type 'heatmap', imported as table tile 5" in result.stderr
    listing = run("dashboards", "list")
    assert listing.stdout.splitlines()[0].split("\t")[::2] == ["carers-allowance", "p"]
    assert "1 dashboards" in listing.stderr
    shown = json.loads(run("dashboards", "show", "carers-allowance").stdout)
    assert [tile["chart"] for tile in shown["tiles"]] == [
        "line",
        "rate",
        "number",
        "line",
        "line",
        "table",
    ]


def test_whitelist_and_protect_switch_on_and_off(run):
    _data_sets(run, "cli")
    run("dashboards", "import", "--spotlight", str(SPOTLIGHT))
    assert (
        "protected on, whitelisted True" in run("dashboards", "protect", "carers-allowance").stdout
    )
    assert (
        "protected off, whitelisted True"
        in run("dashboards", "protect", "carers-allowance", "--off").stdout
    )
    assert "whitelisted off" in run("dashboards", "whitelist", "carers-allowance", "--off").stdout
    assert "No dashboard nope" in run("dashboards", "whitelist", "nope", code=1).output


def test_export_then_import_round_trips_into_another_database(run, tmp_path):
    _data_sets(run, "cli")
    run("dashboards", "import", "--spotlight", str(SPOTLIGHT))
    run("dashboards", "protect", "carers-allowance")
    exported = tmp_path / "dashboards.json"
    run("dashboards", "export", "--output", str(exported))
    _data_sets(run, "other")
    result = run("dashboards", "import", str(exported), database="other")
    assert "created carers-allowance" in result.stdout
    again = tmp_path / "again.json"
    run("dashboards", "export", "-o", str(again), database="other")
    assert json.loads(again.read_text()) == json.loads(exported.read_text())
    second = run("dashboards", "import", str(exported), database="other")
    assert "created 0, skipped 1" in second.stderr


def test_import_refuses_bad_files_and_stores_nothing(run, tmp_path):
    _data_sets(run, "cli")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert "is not JSON" in run("dashboards", "import", str(bad), code=1).output
    bad.write_text(
        json.dumps(
            {
                "format": "backdrop-dashboards/1",
                "dashboards": [
                    {"id": "a", "dashboard": {"title": "A", "tiles": []}},
                    {"id": "b", "dashboard": {"tiles": []}},
                ],
            }
        )
    )
    output = run("dashboards", "import", str(bad), code=1).output
    assert "dashboards[1] (b): $: 'title' is a required property" in output
    assert run("dashboards", "list").stdout == ""
    bad.write_text("[]")
    assert "Not a dashboards export" in run("dashboards", "import", str(bad), code=1).output
