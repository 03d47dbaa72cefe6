"""The `lilypad` command over a real store of real spans: every command, its JSON, its errors, its exports."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest
from mirascope.lilypad._cli import main
from mirascope.lilypad._store import SpanRecord, Store

from tests.support.lilypad_store import HOSTILE_NAME, FilledStore, fill_store
from tests.support.replay import ReplayServer

LILYPAD = Path(sys.executable).with_name("lilypad")
MISSING_STORE = "run lilypad.configure() in your app first"
# What fill_store traces: the agent run (its span, two chats, two tools), three runs of a versioned
# function (its span and a chat), a stream, a failed call, a call in a session, a traced function and its chat.
SPANS = 5 + 3 * 2 + 1 + 1 + 1 + 2


@pytest.fixture(scope="module")
def filled(replay_server: ReplayServer, tmp_path_factory: pytest.TempPathFactory) -> FilledStore:
    folder = tmp_path_factory.mktemp("cli")
    return fill_store(folder / ".lilypad" / "lilypad.db", replay_server, folder)


@pytest.fixture
def db(filled: FilledStore, tmp_path: Path) -> str:
    """A copy of the filled store that a test may change (annotate, prune)."""
    copy = tmp_path / "lilypad.db"
    shutil.copy(filled.path, copy)
    return str(copy)


@pytest.fixture(autouse=True)
def _no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LILYPAD_DB", raising=False)


class Run:
    def __init__(self, status: int, out: str, err: str) -> None:
        self.status = status
        self.out = out
        self.err = err

    def json(self) -> Any:
        assert self.status == 0, self.err
        return json.loads(self.out)


def lilypad(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    status = main(list(argv))
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)


def assert_one_line_error(run: Run, *fragments: str) -> None:
    assert run.status == 1
    assert run.out == ""
    assert run.err.count("\n") == 1, run.err
    assert run.err.startswith("lilypad: ")
    assert "Traceback" not in run.err
    for fragment in fragments:
        assert fragment in run.err


def all_trace_ids(filled: FilledStore) -> set[str]:
    versioned = [trace for traces in filled.versioned.values() for trace in traces]
    return {filled.agent, filled.stream, filled.error, filled.session, filled.hostile, *versioned}


# Help and the console script.


@pytest.mark.parametrize(
    "command", [[], ["view"], ["traces"], ["show"], ["versions"], ["diff"], ["annotate"], ["export"], ["prune"]]
)
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    run = lilypad(capsys, *command, "--help")
    assert run.status == 0, run.err
    assert run.out.startswith("usage: lilypad")
    assert "--db" in run.out
    assert "--json" in run.out


def test_no_command_prints_the_help_listing_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    run = lilypad(capsys)
    assert run.status == 0, run.err
    for command in ("view", "traces", "show", "versions", "diff", "annotate", "export", "prune"):
        assert command in run.out


def test_the_installed_console_script_runs(filled: FilledStore) -> None:
    assert LILYPAD.exists(), "uv sync --all-packages --all-extras installs the lilypad script"
    shown = subprocess.run([LILYPAD, "--help"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0
    assert "usage: lilypad" in shown.stdout
    # Run from the project, the store is found where lilypad.configure() puts it.
    listed = subprocess.run(
        [LILYPAD, "traces", "--json", "--limit", "100"],
        capture_output=True,
        text=True,
        check=False,
        cwd=filled.path.parents[1],
        env={key: value for key, value in os.environ.items() if key != "LILYPAD_DB"},
    )
    assert listed.returncode == 0, listed.stderr
    assert {trace["trace_id"] for trace in json.loads(listed.stdout)} == all_trace_ids(filled)


def test_the_console_script_reports_a_missing_store_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run([LILYPAD, "traces"], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"lilypad: no store at {Path('.lilypad/lilypad.db')}: {MISSING_STORE} "
        "(or point --db or LILYPAD_DB at the store it wrote)\n"
    )


# traces


def test_traces_lists_every_trace_newest_first_in_a_table(
    capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str
) -> None:
    run = lilypad(capsys, "--db", db, "traces")
    assert run.status == 0, run.err
    header, *rows = run.out.splitlines()
    assert header.split() == [
        "TRACE", "STARTED", "NAME", "VERSION", "MODEL", "DURATION", "IN", "OUT", "COST", "TTFC", "STATUS", "LABEL"
    ]  # fmt: skip
    listed = [row.split()[0] for row in rows]
    assert set(listed) == all_trace_ids(filled)
    assert listed[0] == filled.hostile  # the last one traced
    assert listed[-1] == filled.agent  # the first
    # Columns line up: every row's status column starts where the header's does.
    status_at = header.index("STATUS")
    assert all(row[status_at:].split()[0] in ("ok", "error") for row in rows)
    (error_row,) = [row for row in rows if row.startswith(filled.error)]
    assert error_row[status_at:].startswith("error")
    (agent_row,) = [row for row in rows if row.startswith(filled.agent)]
    assert "invoke_agent keeper" in agent_row
    assert "$0.00" in agent_row


def test_traces_json_is_a_list_of_objects_carrying_trace_id(
    capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str
) -> None:
    traces = lilypad(capsys, "traces", "--db", db, "--json").json()
    assert isinstance(traces, list)
    assert {trace["trace_id"] for trace in traces} == all_trace_ids(filled)
    (agent,) = [trace for trace in traces if trace["trace_id"] == filled.agent]
    assert agent["root_name"] == "invoke_agent keeper"
    assert agent["span_count"] == 5
    assert agent["input_tokens"] > 0
    assert agent["cost"] > 0
    # --json before the command works as well as after it.
    assert lilypad(capsys, "--json", "--db", db, "traces").json() == traces


def test_traces_filters_by_function_version_model_errors_session_and_time(
    capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str
) -> None:
    def ids(*filters: str) -> set[str]:
        return {trace["trace_id"] for trace in lilypad(capsys, "--db", db, "--json", "traces", *filters).json()}

    assert ids("--function", "recommend_book") == {*filled.versioned["1.0"], *filled.versioned["1.1"]}
    assert ids("--function", "recommend_book", "--version", "1.1") == set(filled.versioned["1.1"])
    assert ids("--errors") == {filled.error}
    assert ids("--session", filled.session_id) == {filled.session}
    assert ids("--model", "gpt-4o") == all_trace_ids(filled)
    assert ids("--model", "claude-sonnet-4-0") == set()
    assert ids("--since", "1h") == all_trace_ids(filled)
    assert ids("--since", "2999-01-01") == set()
    assert len(ids("--limit", "2")) == 2


def test_traces_with_no_match_says_so_on_stderr(capsys: pytest.CaptureFixture[str], db: str) -> None:
    run = lilypad(capsys, "--db", db, "traces", "--function", "nothing_like_it")
    assert run.status == 0, run.err
    assert run.out == ""
    assert "no traces match" in run.err


# show


def test_show_prints_the_span_tree_with_its_conversation(
    capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str
) -> None:
    run = lilypad(capsys, "--db", db, "show", filled.agent)
    assert run.status == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith(f"trace {filled.agent}")
    assert "5 span(s)" in lines[0]
    spans = [line for line in lines if "  [" in line]
    assert [line.split("  [")[0] for line in spans] == [
        "invoke_agent keeper",
        "  chat gpt-4o",
        "    execute_tool secret_retrieval_tool",
        "    execute_tool secret_retrieval_tool",
        "  chat gpt-4o",
    ]
    text = run.out
    assert "system: Use parallel tool calling." in text
    assert "user: Please retrieve the secrets associated with each of these passwords: mellon,radiance" in text
    assert '→ call secret_retrieval_tool({"password": "mellon"})' in text
    assert "result: Welcome to Moria!" in text
    assert "← result [call_" in text
    assert "assistant: Here are the secrets" in text
    # The second turn prints only what it added to the conversation.
    assert text.count("user: Please retrieve the secrets") == 1
    assert "(… 2 earlier message(s), shown above)" in text
    assert "tokens 75 in, 53 out" in text


def test_show_prints_a_failure_and_the_function_version(
    capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str
) -> None:
    failed = lilypad(capsys, "--db", db, "show", filled.error).out
    assert "error: AuthenticationError: openai-completions 401" in failed
    assert "Traceback" not in failed  # the exception event's stack trace stays in --json
    versioned = lilypad(capsys, "--db", db, "show", filled.versioned["1.1"][0]).out
    assert "function recommend_book 1.1 (" in versioned
    assert 'arguments: {"genre": "fantasy"}' in versioned
    streamed = lilypad(capsys, "--db", db, "show", filled.stream).out
    assert re.search(r"first chunk \d+ ms", streamed)
    in_session = lilypad(capsys, "--db", db, "show", filled.session).out
    assert f"session {filled.session_id}" in in_session


def test_show_json_is_the_trace_s_spans(capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str) -> None:
    spans = lilypad(capsys, "--db", db, "show", filled.agent, "--json").json()
    assert len(spans) == 5
    assert {span["trace_id"] for span in spans} == {filled.agent}
    (root,) = [span for span in spans if span["parent_span_id"] is None]
    assert root["name"] == "invoke_agent keeper"
    assert all(re.fullmatch("[0-9a-f]{16}", span["span_id"]) for span in spans)


def test_show_escapes_control_characters_a_stored_string_could_drive_the_terminal_with(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "hostile.db"
    with Store(path) as store:
        store.write_spans(
            [
                SpanRecord(
                    trace_id="ab" * 16,
                    span_id="cd" * 8,
                    parent_span_id=None,
                    name="\x1b]0;owned\x07title",
                    kind="INTERNAL",
                    start_ns=1,
                    end_ns=2,
                    status="UNSET",
                    attributes={"mirascope.trace.result": "clear\x1b[2J screen \u202eesrever"},
                )
            ]
        )
    shown = lilypad(capsys, "--db", str(path), "show", "ab" * 16).out
    listed = lilypad(capsys, "--db", str(path), "traces").out
    for text in (shown, listed):
        assert "\x1b" not in text
        assert "\x07" not in text
        assert "\u202e" not in text
    assert "\\x1b]0;owned\\x07title" in shown
    assert "clear\\x1b[2J screen \\u202eesrever" in shown


# versions and diff


def test_versions_lists_a_function_s_versions_with_their_statistics(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    run = lilypad(capsys, "--db", db, "versions", "recommend_book")
    assert run.status == 0, run.err
    header, first, second = run.out.splitlines()
    assert header.split() == ["VERSION", "HASH", "CREATED", "TRACES", "P50", "P95", "MEAN", "COST", "PASS", "RATE"]
    assert first.split()[0] == "1.0"
    assert first.split()[4] == "2"  # traces
    assert second.split()[0] == "1.1"
    assert second.split()[4] == "1"


def test_versions_json_carries_name_version_and_hash(capsys: pytest.CaptureFixture[str], db: str) -> None:
    versions = lilypad(capsys, "--db", db, "--json", "versions", "recommend_book").json()
    assert [version["version"] for version in versions] == ["1.0", "1.1"]
    for version in versions:
        assert version["name"] == "recommend_book"
        assert re.fullmatch("[0-9a-f]{64}", version["hash"])
    assert [version["trace_count"] for version in versions] == [2, 1]


def test_diff_shows_the_code_that_changed_by_number_or_hash_prefix(capsys: pytest.CaptureFixture[str], db: str) -> None:
    by_number = lilypad(capsys, "--db", db, "diff", "recommend_book", "1.0", "1.1")
    assert by_number.status == 0
    lines = by_number.out.splitlines()
    assert lines[0].startswith("--- recommend_book 1.0 (")
    assert lines[1].startswith("+++ recommend_book 1.1 (")
    assert '-    return f"Recommend a {genre} book"' in lines
    assert "+    return f\"Recommend a {genre} book <script>alert('v')</script>, and say why\"" in lines
    assert " @lilypad.version()" in lines  # context
    versions = lilypad(capsys, "--db", db, "--json", "versions", "recommend_book").json()
    by_hash = lilypad(capsys, "--db", db, "diff", "recommend_book", versions[0]["hash"][:8], versions[1]["hash"][:10])
    assert by_hash.out == by_number.out
    same = lilypad(capsys, "--db", db, "diff", "recommend_book", "1.1", versions[1]["hash"][:6])
    assert same.status == 0
    assert "are the same version" in same.out


def test_diff_json_is_both_versions_with_their_code(capsys: pytest.CaptureFixture[str], db: str) -> None:
    old, new = lilypad(capsys, "--db", db, "diff", "recommend_book", "1.0", "1.1", "--json").json()
    assert (old["name"], old["version"], new["version"]) == ("recommend_book", "1.0", "1.1")
    assert "and say why" in new["code"]
    assert "and say why" not in old["code"]


def test_a_version_that_does_not_exist_is_one_line_naming_the_versions_there(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    assert_one_line_error(
        lilypad(capsys, "--db", db, "diff", "recommend_book", "1.0", "3.7"),
        "recommend_book has no version '3.7'",
        "1.0, 1.1",
        "lilypad versions recommend_book",
    )
    assert_one_line_error(
        lilypad(capsys, "--db", db, "diff", "recommend_book", "1.0", "not-a-version"),
        'a version is a number such as "1.2"',
    )
    assert_one_line_error(
        lilypad(capsys, "--db", db, "versions", "recommend_bok"), "no versions of recommend_bok", "recommend_book?"
    )
    assert_one_line_error(
        lilypad(capsys, "--db", db, "diff", "nothing_like_it", "1.0", "1.1"),
        "no versions of nothing_like_it",
        "recommend_book",
    )


# annotate


def test_annotate_labels_a_trace_and_traces_and_show_say_so(
    capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str
) -> None:
    run = lilypad(
        capsys, "--db", db, "annotate", filled.session, "--label", "fail", "--score", "0.25", "--reason", "off topic"
    )
    assert run.status == 0, run.err
    assert run.out == f"annotated {filled.session}: fail\n"
    (listed,) = lilypad(capsys, "--db", db, "--json", "traces", "--session", filled.session_id).json()
    assert listed["annotation"] == "fail"
    assert "annotation fail score 0.25 (cli, " in lilypad(capsys, "--db", db, "show", filled.session).out
    (annotation,) = lilypad(capsys, "--db", db, "annotate", filled.session, "--label", "pass", "--json").json()
    assert annotation["label"] == "pass"
    assert annotation["trace_id"] == filled.session
    assert annotation["source"] == "cli"
    with Store(db, readonly=True) as store:
        assert [note.label for note in store.annotations(filled.session)] == ["fail", "pass"]
    versions = lilypad(capsys, "--db", db, "--json", "versions", "recommend_book").json()
    assert [version["pass_rate"] for version in versions] == [None, None]


def test_annotate_a_span_of_the_trace(capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str) -> None:
    spans = lilypad(capsys, "--db", db, "--json", "show", filled.agent).json()
    tool = next(span for span in spans if span["name"].startswith("execute_tool"))
    (annotation,) = lilypad(
        capsys, "--db", db, "--json", "annotate", filled.agent, "--span", tool["span_id"], "--label", "pass"
    ).json()
    assert annotation["span_id"] == tool["span_id"]
    assert_one_line_error(
        lilypad(capsys, "--db", db, "annotate", filled.agent, "--span", "0" * 16, "--label", "pass"),
        f"trace {filled.agent} has no span {'0' * 16}",
    )


def test_annotating_an_unknown_trace_or_with_a_bad_label_is_one_line(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    assert_one_line_error(
        lilypad(capsys, "--db", db, "annotate", "f" * 32, "--label", "pass"), f"no trace {'f' * 32}", "lilypad traces"
    )
    assert_one_line_error(
        lilypad(capsys, "--db", db, "annotate", "f" * 32, "--label", "maybe"),
        "argument --label: invalid choice: 'maybe'",
        "see lilypad annotate --help",
    )
    assert_one_line_error(
        lilypad(capsys, "--db", db, "annotate", "f" * 32, "--label", "pass", "--score", "nan"), "not 'nan'"
    )


# Errors


def test_a_missing_store_is_one_line_saying_to_configure_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "lilypad.db"
    for command in (["traces"], ["show", "a" * 32], ["versions", "f"], ["export", "--jsonl"], ["view"]):
        run = lilypad(capsys, "--db", str(missing), *command)
        assert_one_line_error(run, f"no store at {missing}: {MISSING_STORE}")
    assert not missing.parent.exists()  # reading never creates a store


def test_the_store_comes_from_lilypad_db_in_the_environment(
    capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LILYPAD_DB", db)
    assert {trace["trace_id"] for trace in lilypad(capsys, "--json", "traces").json()} == all_trace_ids(filled)
    # --db wins over the environment.
    assert_one_line_error(lilypad(capsys, "--db", str(tmp_path / "other.db"), "traces"), MISSING_STORE)


def test_an_unknown_trace_is_one_line(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert_one_line_error(lilypad(capsys, "--db", db, "show", "0" * 32), f"no trace {'0' * 32}", "lilypad traces")


def test_a_file_that_is_not_a_store_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "lilypad.db"
    path.write_bytes(b"this is not a database" * 100)
    run = lilypad(capsys, "--db", str(path), "traces")
    assert_one_line_error(run, str(path))


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["traces", "--since", "yesterday"], "expected an age such as 30m"),
        (["traces", "--limit", "0"], "expected a whole number of at least 1"),
        (["prune", "--keep-last", "-1"], "expected a whole number of at least 0"),
        (["view", "--port", "70000"], "expected a port number"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["export"], "one of the arguments --jsonl --otlp is required"),
        (["show"], "the following arguments are required: TRACE_ID"),
    ],
)
def test_usage_errors_are_one_line_pointing_at_help(
    capsys: pytest.CaptureFixture[str], db: str, argv: list[str], fragment: str
) -> None:
    assert_one_line_error(lilypad(capsys, "--db", db, *argv), fragment, "--help)")


# export --jsonl


def test_export_jsonl_round_trips_into_a_new_store(
    capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str, tmp_path: Path
) -> None:
    out = tmp_path / "spans.jsonl"
    run = lilypad(capsys, "--db", db, "export", "--jsonl", str(out))
    assert (run.status, run.out) == (0, "")
    lines = out.read_text(encoding="utf-8").splitlines()
    spans = [json.loads(line) for line in lines]
    with Store(db, readonly=True) as store:
        stored = [span.to_json() for span in store.iter_spans()]
    assert spans == stored
    assert len(spans) == SPANS
    assert {span["trace_id"] for span in spans} == all_trace_ids(filled)
    # Oldest trace first, each trace's spans together.
    assert spans[0]["trace_id"] == filled.agent
    # Back into a store, the traces read the same.
    copy = tmp_path / "copy.db"
    with Store(copy) as store:
        fields = {field.name for field in attrs.fields(SpanRecord)}
        store.write_spans(
            [SpanRecord(**{key: value for key, value in span.items() if key in fields}) for span in spans]
        )
    assert (
        lilypad(capsys, "--db", str(copy), "--json", "traces").json()
        == lilypad(capsys, "--db", db, "--json", "traces").json()
    )
    for trace_id in all_trace_ids(filled):
        assert (
            lilypad(capsys, "--db", str(copy), "show", trace_id).out
            == lilypad(capsys, "--db", db, "show", trace_id).out
        )


def test_export_jsonl_to_stdout_with_filters(capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str) -> None:
    run = lilypad(capsys, "--db", db, "export", "--jsonl", "--function", "recommend_book", "--version", "1.0")
    assert run.status == 0, run.err
    spans = [json.loads(line) for line in run.out.splitlines()]
    assert {span["trace_id"] for span in spans} == set(filled.versioned["1.0"])
    assert lilypad(capsys, "--db", db, "export", "--jsonl", "-", "--errors").out.count("\n") == 1


def test_export_jsonl_to_a_file_it_cannot_write_is_one_line(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-dir" / "spans.jsonl"
    assert_one_line_error(lilypad(capsys, "--db", db, "export", "--jsonl", str(target)), f"cannot write {target}")


# export --otlp


class Collector:
    """A real OTLP/HTTP endpoint on 127.0.0.1 that decodes what it receives, or refuses it with `status`."""

    def __init__(self, status: int = 200) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        self.spans: list[Any] = []
        self.resources: list[Any] = []
        self.paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                collector.paths.append(self.path)
                if status == 200:
                    request = ExportTraceServiceRequest()
                    request.ParseFromString(body)
                    for resource_spans in request.resource_spans:
                        collector.resources.append(resource_spans.resource)
                        for scope_spans in resource_spans.scope_spans:
                            collector.spans.extend(scope_spans.spans)
                self.send_response(status)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def collector() -> Iterator[Collector]:
    receiver = Collector()
    yield receiver
    receiver.close()


def test_export_otlp_replays_the_stored_traces_with_their_ids_and_times(
    capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str, collector: Collector
) -> None:
    run = lilypad(capsys, "--db", db, "export", "--otlp", collector.url)
    assert run.status == 0, run.err
    assert run.out == f"exported {SPANS} span(s) of 8 trace(s) over OTLP\n"
    assert run.err.splitlines()[-1] == f"exported 8/8 trace(s), {SPANS} span(s)"  # stderr is not a terminal here
    with Store(db, readonly=True) as store:
        stored = {span.span_id: span for span in store.iter_spans()}
    received = {span.span_id.hex(): span for span in collector.spans}
    assert received.keys() == stored.keys()
    for span_id, span in received.items():
        record = stored[span_id]
        assert span.trace_id.hex() == record.trace_id
        assert (span.parent_span_id.hex() or None) == record.parent_span_id
        assert span.name == record.name
        assert (span.start_time_unix_nano, span.end_time_unix_nano) == (record.start_ns, record.end_ns)
        attributes = {kv.key: kv.value for kv in span.attributes}
        assert attributes.keys() == record.attributes.keys()
    chat = next(span for span in collector.spans if span.name == "chat gpt-4o" and span.trace_id.hex() == filled.stream)
    attributes = {kv.key: kv.value for kv in chat.attributes}
    assert attributes["gen_ai.provider.name"].string_value == "openai"
    assert attributes["gen_ai.usage.input_tokens"].int_value == 16
    assert attributes["gen_ai.response.time_to_first_chunk"].double_value > 0
    assert [value.string_value for value in attributes["gen_ai.response.finish_reasons"].array_value.values] == ["stop"]
    failed = next(span for span in collector.spans if span.trace_id.hex() == filled.error)
    assert failed.status.code == 2  # STATUS_CODE_ERROR
    assert "401" in failed.status.message
    assert [event.name for event in failed.events] == ["exception"]
    tool = next(span for span in collector.spans if span.name.startswith("execute_tool"))
    assert tool.kind == 1  # SPAN_KIND_INTERNAL
    assert {kv.key for kv in collector.resources[0].attributes} >= {"service.name"}


def test_export_otlp_takes_filters_and_the_endpoint_from_the_environment(
    capsys: pytest.CaptureFixture[str],
    filled: FilledStore,
    db: str,
    collector: Collector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", collector.url)
    run = lilypad(capsys, "--db", db, "--json", "export", "--otlp", "--session", filled.session_id)
    assert run.json() == [{"exported_traces": 1, "exported_spans": 1}]
    assert {span.trace_id.hex() for span in collector.spans} == {filled.session}


def test_export_otlp_to_a_collector_s_address_posts_to_its_traces_path(
    capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str, collector: Collector
) -> None:
    address = collector.url.removesuffix("/v1/traces")
    run = lilypad(capsys, "--db", db, "export", "--otlp", address, "--errors")
    assert run.status == 0, run.err
    assert collector.paths == ["/v1/traces"]
    assert {span.trace_id.hex() for span in collector.spans} == {filled.error}
    assert_one_line_error(lilypad(capsys, "--db", db, "export", "--otlp", "http://[::1"), "is not a URL")


def test_export_otlp_to_a_collector_that_refuses_is_one_line(capsys: pytest.CaptureFixture[str], db: str) -> None:
    refusing = Collector(status=400)
    try:
        run = lilypad(capsys, "--db", db, "export", "--otlp", refusing.url)
    finally:
        refusing.close()
    assert run.status == 1
    assert run.out == ""
    (line,) = run.err.splitlines()
    assert line.startswith("lilypad: the OTLP collector did not take the spans (0 of 8 trace(s) were sent")
    assert "Traceback" not in run.err
    assert refusing.paths == ["/v1/traces"]


def test_export_otlp_without_the_exporter_names_the_extra(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What an environment without the `otlp` extra looks like to an import.
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    assert_one_line_error(
        lilypad(capsys, "--db", db, "export", "--otlp", "http://127.0.0.1:9/v1/traces"),
        'pip install "mirascope-lilypad[otlp]"',
    )


def test_export_otlp_draws_a_progress_bar_on_a_terminal(db: str, collector: Collector) -> None:
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [LILYPAD, "--db", db, "export", "--otlp", collector.url],
            stdout=subprocess.PIPE,
            stderr=terminal,
            stdin=subprocess.DEVNULL,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal's other end closed: the process is done with it
                break
            if not chunk:
                break
            shown += chunk
        out, _ = process.communicate()
    finally:
        os.close(controller)
    assert process.returncode == 0
    assert out == f"exported {SPANS} span(s) of 8 trace(s) over OTLP\n".encode()
    assert b"\rexporting [" in shown
    assert f"] 8/8 trace(s), {SPANS} span(s)".encode() in shown
    assert len(collector.spans) == SPANS


# prune


def test_prune_keeps_the_newest_traces(capsys: pytest.CaptureFixture[str], filled: FilledStore, db: str) -> None:
    run = lilypad(capsys, "--db", db, "prune", "--keep-last", "2", "--yes")
    assert (run.status, run.out) == (0, "deleted 6 trace(s)\n")
    assert {trace["trace_id"] for trace in lilypad(capsys, "--db", db, "--json", "traces").json()} == {
        filled.hostile,
        filled.session,
    }
    # Versions stay.
    assert len(lilypad(capsys, "--db", db, "--json", "versions", "recommend_book").json()) == 2


def test_prune_before_a_date(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert lilypad(capsys, "--db", db, "--json", "prune", "--before", "2000-01-01", "--yes").json() == [
        {"deleted_traces": 0}
    ]
    assert lilypad(capsys, "--db", db, "--json", "prune", "--before", "2999-01-01T00:00+00:00", "--yes").json() == [
        {"deleted_traces": 8}
    ]
    assert lilypad(capsys, "--db", db, "--json", "traces").json() == []


def test_prune_asks_first_and_refuses_without_a_terminal_to_ask_on(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert_one_line_error(
        lilypad(capsys, "--db", db, "prune", "--keep-last", "1"), "prune would delete 7 trace(s)", "add --yes"
    )
    assert len(lilypad(capsys, "--db", db, "--json", "traces").json()) == 8
    assert_one_line_error(lilypad(capsys, "--db", db, "prune"), "--before DATE, --keep-last N or both")


def test_prune_deletes_only_once_the_terminal_says_yes(db: str) -> None:
    def prune(answer: bytes) -> tuple[int, bytes, bytes]:
        controller, terminal = pty.openpty()
        try:
            process = subprocess.Popen(
                [LILYPAD, "--db", db, "prune", "--keep-last", "3"],
                stdin=terminal,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            os.close(terminal)
            os.write(controller, answer)
            out, err = process.communicate()
        finally:
            os.close(controller)
        return process.returncode, out, err

    status, out, err = prune(b"n\n")
    assert (status, out) == (0, b"")
    assert b"delete 5 trace(s) from " in err
    assert b"? [y/N]" in err
    assert b"nothing deleted" in err
    status, out, err = prune(b"y\n")
    assert (status, out) == (0, b"deleted 5 trace(s)\n")


# view


def test_view_serves_the_store_until_interrupted(filled: FilledStore) -> None:
    process = subprocess.Popen(
        [LILYPAD, "--db", str(filled.path), "view", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", first)
        assert match, first
        with urllib.request.urlopen(match[0] + "api/traces?limit=100") as response:
            listed = json.load(response)
        assert {trace["trace_id"] for trace in listed} == all_trace_ids(filled)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Traceback" not in err


def test_hostile_names_print_as_text_in_the_table(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert HOSTILE_NAME in lilypad(capsys, "--db", db, "traces").out
