"""`backdrop push` and `backdrop query` against real apps (SPEC 15)."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from backdrop.cli import main
from tests.core.files.conftest import xlsx_bytes

CSV = "_timestamp,stage,num\n2024-01-01T00:00:00Z,start,3\n2024-01-02T00:00:00Z,end,4\n"


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def push(data_set, *args, input=None):
    return run("push", *args, "--url", data_set.url, "--token", data_set.token, input=input)


def test_push_a_csv_file_prints_a_one_line_summary(apps, data_set, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(CSV)
    result = push(data_set, str(path))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("pushed 2 records from ")
    assert "in 1 chunks, 0 retries" in result.output
    assert sorted(r["num"] for r in apps.stored(data_set.name)) == [3, 4]


def test_push_jsonl_from_stdin_in_chunks(apps, data_set):
    lines = "".join(orjson.dumps({"num": n}).decode() + "\n" for n in range(25))
    result = push(data_set, "-", "--chunk-size", "10", input=lines)
    assert result.exit_code == 0, result.output
    assert "pushed 25 records from - in 3 chunks" in result.output
    assert len(apps.stored(data_set.name)) == 25


def test_push_a_workbook_and_again_without_duplicates(apps, data_set, tmp_path):
    path = tmp_path / "d.xlsx"
    path.write_bytes(xlsx_bytes({"s": [["stage", "num"], ["a", 1], ["b", 2], ["b", 2]]}))
    assert push(data_set, str(path)).exit_code == 0
    assert push(data_set, str(path)).exit_code == 0
    assert sorted(r["stage"] for r in apps.stored(data_set.name)) == ["a", "b", "b"]


def test_a_push_and_an_upload_of_one_file_give_the_same_ids(apps, data_set, tmp_path):
    from backdrop.client import DataSet

    path = tmp_path / "d.csv"
    path.write_text(CSV)
    push(data_set, str(path))
    DataSet(data_set.url, data_set.token).upload(path)
    assert len(apps.stored(data_set.name)) == 2


def test_dry_run_validates_locally_and_sends_nothing(apps, data_set, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(CSV)
    result = push(data_set, str(path), "--dry-run")
    assert result.exit_code == 0
    assert "2 records in" in result.output and "nothing was sent" in result.output
    path.write_text(CSV + "2024-02-30T00:00:00Z,x,1\n")
    result = push(data_set, str(path), "--dry-run")
    assert result.exit_code == 1
    assert "2024-02-30T00:00:00Z in the _timestamp field is not a valid date" in result.output
    assert apps.stored(data_set.name) == []


def test_a_4xx_exits_non_zero_with_the_servers_message(data_set, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(CSV)
    result = run("push", str(path), "--url", data_set.url, "--token", "nope")
    assert result.exit_code == 1
    assert "401: Unauthorized: Invalid bearer token 'nope'" in result.output


def test_a_bad_file_exits_non_zero_naming_row_and_column(data_set, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("stage,stage\na,b\n")
    result = push(data_set, str(path))
    assert result.exit_code == 1
    assert 'row 1, column 2: duplicate header "stage"' in result.output
    assert push(data_set, str(tmp_path / "missing.csv")).exit_code != 0


def test_query_prints_a_table_csv_or_json(data_set, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(CSV)
    push(data_set, str(path))
    url = data_set.read_url
    table = run("query", url, "--group-by", "stage", "--collect", "num:sum")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["stage", "_count", "num:sum"]
    assert sorted(line.split()[0] for line in lines[2:]) == ["end", "start"]
    as_csv = run("query", url, "--group-by", "stage", "--collect", "num:sum", "--format", "csv")
    assert as_csv.output.splitlines()[0] == "stage,_count,num:sum"
    as_json = run("query", url, "--param", "sort_by=num:ascending", "--format", "json")
    assert [r["num"] for r in orjson.loads(as_json.output)] == [3, 4]
    bad = run("query", url, "--period", "fortnight")
    assert bad.exit_code == 1 and "400" in bad.output
