"""The viewer's JSON API and page over a real store of real spans: what it serves, and what it refuses."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from mirascope.lilypad._store import Store, StoreError
from mirascope.lilypad._viewer import ViewerError, ViewerServer, code_diff, make_server

from tests.support.lilypad_store import HOSTILE_NAME, HOSTILE_PROMPT, FilledStore, fill_store
from tests.support.replay import ReplayServer

STATIC = Path(__file__).parents[2] / "packages/mirascope-lilypad/src/mirascope/lilypad/_viewer_static"


@pytest.fixture(scope="module")
def filled(replay_server: ReplayServer, tmp_path_factory: pytest.TempPathFactory) -> FilledStore:
    folder = tmp_path_factory.mktemp("viewer")
    return fill_store(folder / ".lilypad" / "lilypad.db", replay_server, folder)


@pytest.fixture(scope="module")
def server(filled: FilledStore) -> Iterator[ViewerServer]:
    viewer = make_server(filled.path)
    thread = threading.Thread(target=viewer.serve_forever, daemon=True)
    thread.start()
    try:
        yield viewer
    finally:
        viewer.shutdown()
        viewer.server_close()
        thread.join()


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        assert self.headers["content-type"] == "application/json; charset=utf-8"
        return json.loads(self.body)

    @property
    def message(self) -> str:
        return self.json()["error"]["message"]


def fetch(
    server: ViewerServer,
    path: str,
    *,
    method: str = "GET",
    host: str | None = "default",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            connection.putheader("Host", f"127.0.0.1:{server.port}" if host == "default" else host)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def post_annotation(server: ViewerServer, trace_id: str, payload: object, **headers: str) -> Answer:
    sent = {"Origin": f"http://127.0.0.1:{server.port}", "Content-Type": "application/json", **headers}
    sent = {name: value for name, value in sent.items() if value}
    return fetch(
        server, f"/api/traces/{trace_id}/annotations", method="POST", headers=sent, body=json.dumps(payload).encode()
    )


# Reading.


def test_traces_are_listed_newest_first_with_latency_tokens_cost_and_time_to_first_chunk(
    server: ViewerServer, filled: FilledStore
) -> None:
    traces = fetch(server, "/api/traces").json()
    ids = [trace["trace_id"] for trace in traces]
    assert set(ids) >= {filled.agent, filled.stream, filled.error, filled.session, filled.hostile}
    starts = [trace["start_ns"] for trace in traces]
    assert starts == sorted(starts, reverse=True)
    assert ids[0] == filled.hostile  # the last one recorded
    by_id = {trace["trace_id"]: trace for trace in traces}
    agent = by_id[filled.agent]
    assert agent["root_name"] == "invoke_agent keeper"
    assert agent["span_count"] == 5
    assert agent["duration_ms"] > 0
    assert agent["input_tokens"] > 0
    assert agent["output_tokens"] > 0
    assert agent["model"] == "gpt-4o"
    assert isinstance(by_id[filled.stream]["ttfc"], float)
    assert by_id[filled.error]["error"] is True
    assert by_id[filled.agent]["error"] is False
    assert by_id[filled.session]["session_id"] == filled.session_id


def test_traces_filter_by_function_version_model_errors_and_session(server: ViewerServer, filled: FilledStore) -> None:
    def ids(query: str) -> list[str]:
        return [trace["trace_id"] for trace in fetch(server, f"/api/traces?{query}").json()]

    assert sorted(ids("function=recommend_book")) == sorted(filled.versioned["1.0"] + filled.versioned["1.1"])
    assert ids("function=recommend_book&version=1.1") == filled.versioned["1.1"]
    assert ids("errors=true") == [filled.error]
    assert filled.error not in ids("errors=false")
    assert ids(f"session={filled.session_id}") == [filled.session]
    assert filled.agent in ids("model=gpt-4o")
    assert ids("model=no-such-model") == []
    everything = ids("limit=1000")
    assert ids("limit=2") == everything[:2]
    assert ids("limit=2&offset=2") == everything[2:4]


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ("limit=0", "limit must be from 1 to 1000"),
        ("limit=many", "limit must be a whole number"),
        ("offset=-1", "offset must be from 0 to"),
        ("since_ns=99999999999999999999", "since_ns must be from 0 to 9223372036854775807"),
        ("errors=maybe", "errors must be true or false"),
        ("fucntion=x", "unknown query parameter(s) fucntion"),
        ("model=a&model=b", "given 2 times"),
        ("version=latest", 'a version is a number such as "1.2"'),
    ],
)
def test_bad_trace_queries_get_400_saying_what_to_send(server: ViewerServer, query: str, complaint: str) -> None:
    answer = fetch(server, f"/api/traces?{query}")
    assert answer.status == 400
    assert complaint in answer.message


def test_a_trace_is_its_spans_as_a_tree_with_the_conversation_and_tool_calls(
    server: ViewerServer, filled: FilledStore
) -> None:
    trace = fetch(server, f"/api/traces/{filled.agent}").json()
    assert trace["trace_id"] == filled.agent
    assert trace["span_count"] == 5
    assert trace["annotations"] == []
    (agent,) = trace["spans"]
    assert agent["name"] == "invoke_agent keeper"
    assert agent["parent_span_id"] is None
    asking, answering = agent["children"]
    assert asking["name"] == answering["name"] == "chat gpt-4o"
    assert [tool["name"] for tool in asking["children"]] == ["execute_tool secret_retrieval_tool"] * 2
    assert answering["children"] == []
    for tool in asking["children"]:
        assert tool["parent_span_id"] == asking["span_id"]
        assert "password" in tool["attributes"]["gen_ai.tool.call.arguments"]
        assert tool["attributes"]["gen_ai.tool.call.result"] in {"Welcome to Moria!", "Life before Death"}
    (question,) = json.loads(asking["attributes"]["gen_ai.input.messages"])
    assert "mellon,radiance" in question["parts"][0]["content"]
    (asked,) = json.loads(asking["attributes"]["gen_ai.output.messages"])
    assert {part["type"] for part in asked["parts"]} >= {"tool_call"}
    assert agent["duration_ms"] >= asking["duration_ms"] > 0


def test_the_error_trace_keeps_its_status_and_exception(server: ViewerServer, filled: FilledStore) -> None:
    (span,) = fetch(server, f"/api/traces/{filled.error}").json()["spans"]
    assert span["status"] == "ERROR"
    assert span["error_type"] == "AuthenticationError"
    assert [event["name"] for event in span["events"]] == ["exception"]
    assert "test-key" not in json.dumps(span)


@pytest.mark.parametrize(
    "path",
    [
        "/api/traces/" + "0" * 32,
        "/api/traces/not-a-trace",
        "/api/traces/" + "0" * 32 + "/annotations",
        "/api/functions/no_such_function/versions",
        "/api/functions/recommend_book/diff?a=1.0&b=9.9",
        "/api/functions/no_such_function/diff?a=1.0&b=1.1",
        "/api/nothing",
        "/api/traces/x/y/z",
        "/secret.txt",
        "/../../etc/passwd",
    ],
)
def test_unknown_ids_and_paths_are_404_as_json(server: ViewerServer, path: str) -> None:
    answer = fetch(server, path)
    assert answer.status == 404
    assert answer.json()["error"]["status"] == 404
    assert answer.message


def test_functions_and_versions_carry_counts_latency_cost_and_pass_rate(
    server: ViewerServer, filled: FilledStore
) -> None:
    (function,) = [fn for fn in fetch(server, "/api/functions").json() if fn["name"] == "recommend_book"]
    assert function["latest_version"] == "1.1"
    assert function["version_count"] == 2
    assert function["trace_count"] == 3
    before = fetch(server, "/api/functions/recommend_book/versions").json()
    assert [version["version"] for version in before] == ["1.0", "1.1"]
    first = before[0]
    assert first["trace_count"] == 2
    assert 0 < first["p50_ms"] <= first["p95_ms"]
    assert first["pass_rate"] is None
    assert re.fullmatch(r"[0-9a-f]{64}", first["hash"])
    assert "def recommend_book" in first["code"]
    # Labels from the viewer feed the pass rate.
    passed, failed = filled.versioned["1.0"]
    assert post_annotation(server, passed, {"label": "pass"}).status == 201
    assert post_annotation(server, failed, {"label": "fail", "reason": "no reason given"}).status == 201
    after = fetch(server, "/api/functions/recommend_book/versions").json()
    assert after[0]["pass_rate"] == 0.5
    assert after[1]["pass_rate"] is None


def test_a_diff_of_two_versions_has_both_codes_and_a_side_by_side_and_unified_diff(server: ViewerServer) -> None:
    diff = fetch(server, "/api/functions/recommend_book/diff?a=1.0&b=1.1").json()
    assert diff["function"] == "recommend_book"
    assert (diff["a"]["version"], diff["b"]["version"]) == ("1.0", "1.1")
    assert diff["identical"] is False
    assert '-    return f"Recommend a {genre} book"' in diff["unified"]
    assert '+    return f"Recommend a {genre} book <script>' in diff["unified"]
    (changed,) = [row for row in diff["side_by_side"] if row["kind"] != "equal"]
    assert changed["kind"] == "replace"
    assert changed["a_line"] == changed["b_line"] == 4
    assert "<script>" in changed["b"]
    # A hash prefix names a version too.
    prefix = diff["b"]["hash"][:10]
    assert fetch(server, f"/api/functions/recommend_book/diff?a=1.0&b={prefix}").json()["b"]["version"] == "1.1"
    missing = fetch(server, "/api/functions/recommend_book/diff?a=1.0")
    assert missing.status == 400
    assert "?a=1.0&b=1.1" in missing.message


def test_side_by_side_rows_pair_lines_and_pad_insertions_and_deletions() -> None:
    rows = code_diff("a\nb\nc\n", "a\nc\nd\ne\n", "x 1.0", "x 1.1")["side_by_side"]
    assert isinstance(rows, list)
    shown = [(row["kind"], row["a_line"], row["a"], row["b_line"], row["b"]) for row in rows]
    assert shown == [
        ("equal", 1, "a", 1, "a"),
        ("delete", 2, "b", None, None),
        ("equal", 3, "c", 2, "c"),
        ("insert", None, None, 3, "d"),
        ("insert", None, None, 4, "e"),
    ]


def test_sessions_are_listed_with_their_trace_counts(server: ViewerServer, filled: FilledStore) -> None:
    sessions = fetch(server, "/api/sessions").json()
    (session,) = [s for s in sessions if s["session_id"] == filled.session_id]
    assert session["trace_count"] == 1
    assert session["first_ns"] <= session["last_ns"]


# Annotating.


def test_an_annotation_from_the_viewer_lands_in_the_store(server: ViewerServer, filled: FilledStore) -> None:
    answer = post_annotation(server, filled.session, {"label": "fail", "score": 0.25, "reason": "too <b>short</b>"})
    assert answer.status == 201
    created = answer.json()
    assert (created["label"], created["score"], created["reason"], created["source"]) == (
        "fail",
        0.25,
        "too <b>short</b>",
        "viewer",
    )
    store = Store(filled.path, readonly=True)
    try:
        (stored,) = store.annotations(filled.session)
    finally:
        store.close()
    assert (stored.label, stored.reason, stored.source) == ("fail", "too <b>short</b>", "viewer")
    assert fetch(server, f"/api/traces/{filled.session}").json()["annotations"] == [stored.to_json()]
    assert fetch(server, f"/api/traces/{filled.session}/annotations").json() == [stored.to_json()]
    (listed,) = [t for t in fetch(server, "/api/traces").json() if t["trace_id"] == filled.session]
    assert listed["annotation"] == "fail"


@pytest.mark.parametrize(
    ("payload", "status", "complaint"),
    [
        ({"label": "maybe"}, 400, 'a label is "pass" or "fail"'),
        ({"label": 1}, 400, "label must be a string"),
        ({"score": "high"}, 400, "a score is a finite number"),
        ({"score": True}, 400, "a score is a finite number"),
        ({"reason": 3}, 400, "reason must be a string"),
        ({}, 400, "needs a label, a score or a reason"),
        ({"label": "pass", "span_id": "zz"}, 404, "has no span"),
        ({"label": "pass", "author": "me"}, 400, "unknown field(s) author"),
        (["pass"], 400, "must be a JSON object"),
        ({"label": "pass", "span_id": "0" * 16}, 404, "has no span"),
    ],
)
def test_bad_annotations_are_refused_with_what_to_send(
    server: ViewerServer, filled: FilledStore, payload: object, status: int, complaint: str
) -> None:
    answer = post_annotation(server, filled.stream, payload)
    assert answer.status == status
    assert complaint in answer.message
    store = Store(filled.path, readonly=True)
    try:
        assert store.annotations(filled.stream) == []
    finally:
        store.close()


def test_annotating_an_unknown_trace_is_404(server: ViewerServer) -> None:
    answer = post_annotation(server, "f" * 32, {"label": "pass"})
    assert answer.status == 404
    assert "no trace" in answer.message


def test_an_annotation_must_be_json_of_bounded_size(server: ViewerServer, filled: FilledStore) -> None:
    origin = f"http://127.0.0.1:{server.port}"
    path = f"/api/traces/{filled.stream}/annotations"
    form = fetch(
        server,
        path,
        method="POST",
        headers={"Origin": origin, "Content-Type": "application/x-www-form-urlencoded"},
        body=b"label=pass",
    )
    assert form.status == 415
    broken = fetch(
        server, path, method="POST", headers={"Origin": origin, "Content-Type": "application/json"}, body=b"{"
    )
    assert broken.status == 400
    huge = post_annotation(server, filled.stream, {"reason": "x" * 100_000})
    assert huge.status == 413


# Security.


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:{port}",  # DNS rebinding: a web site's name resolved to 127.0.0.1
        "evil.example",
        "127.0.0.1:1",
        "localhost.evil.example:{port}",
        "user@127.0.0.1:{port}",
        "",
        None,
    ],
)
def test_requests_not_naming_the_viewer_in_host_are_refused(
    server: ViewerServer, filled: FilledStore, host: str | None
) -> None:
    for path in ("/api/traces", "/", f"/api/traces/{filled.agent}"):
        answer = fetch(server, path, host=None if host is None else host.format(port=server.port))
        assert answer.status == 403
        assert "DNS rebinding" in answer.message
        assert filled.agent.encode() not in answer.body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])
def test_the_viewers_own_names_are_served(server: ViewerServer, host: str) -> None:
    assert fetch(server, "/api/functions", host=host.format(port=server.port)).status == 200


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "http://127.0.0.1:1", "https://127.0.0.1:{port}", "null", "", "http://evil.example:{port}"],
)
def test_posts_from_other_origins_are_refused_and_store_nothing(
    server: ViewerServer, filled: FilledStore, origin: str
) -> None:
    answer = post_annotation(server, filled.stream, {"label": "pass"}, Origin=origin.format(port=server.port))
    assert answer.status == 403
    assert "Origin" in answer.message
    store = Store(filled.path, readonly=True)
    try:
        assert store.annotations(filled.stream) == []
    finally:
        store.close()


def test_other_methods_are_405(server: ViewerServer, filled: FilledStore) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        answer = fetch(server, f"/api/traces/{filled.agent}", method=method)
        assert answer.status == 405
        assert answer.headers["allow"] == "GET, POST"


def test_every_answer_carries_a_content_security_policy_without_inline_script(server: ViewerServer) -> None:
    for path in ("/", "/app.js", "/app.css", "/api/traces", "/api/nothing"):
        headers = fetch(server, path).headers
        policy = headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_the_page_and_its_assets_are_served_from_the_package_with_their_types(server: ViewerServer) -> None:
    page = fetch(server, "/")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.body == (STATIC / "index.html").read_bytes()
    assert fetch(server, "/app.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert fetch(server, "/app.css").headers["content-type"] == "text/css; charset=utf-8"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.inline: list[str] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))
        if tag == "style":
            self.inline.append("<style>")
        self.inline.extend(f"{tag} {name}" for name, _ in attrs if name == "style" or name.startswith("on"))

    def handle_data(self, data: str) -> None:
        if self._in_script is not None and data.strip():
            self.inline.append(f"script body {data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None


def test_the_page_has_no_inline_script_no_remote_asset_and_never_renders_data_as_html() -> None:
    tags = _Tags()
    tags.feed((STATIC / "index.html").read_text())
    assert [attrs.get("src") for attrs, _ in tags.scripts] == ["app.js"]
    assert tags.inline == []
    for name in ("index.html", "app.js", "app.css"):
        text = (STATIC / name).read_text()
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import", text), f"{name} reaches the network"
    script = (STATIC / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, f"app.js uses {sink}: stored strings must go through textContent"


def test_stored_markup_comes_back_as_json_strings_never_as_a_page(server: ViewerServer, filled: FilledStore) -> None:
    answer = fetch(server, f"/api/traces/{filled.hostile}")
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert answer.headers["x-content-type-options"] == "nosniff"
    (root,) = answer.json()["spans"]
    assert root["name"] == HOSTILE_NAME
    (chat,) = root["children"]
    (message,) = json.loads(chat["attributes"]["gen_ai.input.messages"])
    assert message["parts"][0]["content"] == HOSTILE_PROMPT
    (listed,) = [t for t in fetch(server, "/api/traces").json() if t["trace_id"] == filled.hostile]
    assert listed["root_name"] == HOSTILE_NAME


# Starting and stopping.


def test_make_server_binds_loopback_by_default_and_names_its_url(filled: FilledStore) -> None:
    viewer = make_server(filled.path)
    try:
        assert viewer.server_address[0] == "127.0.0.1"
        assert viewer.url == f"http://127.0.0.1:{viewer.port}/"
        with pytest.raises(ViewerError, match="is in use"):
            make_server(filled.path, port=viewer.port)
    finally:
        viewer.server_close()


def test_make_server_on_a_missing_store_raises_the_stores_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        make_server(tmp_path / "absent.db")


def test_serve_prints_its_address_serves_and_stops_on_ctrl_c(filled: FilledStore) -> None:
    code = "import sys; from mirascope.lilypad._viewer import serve; serve(sys.argv[1])"
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(filled.path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line + (process.stderr.read() if process.stderr else "")
        connection = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=30)
        connection.request("GET", "/api/functions")
        response = connection.getresponse()
        assert response.status == 200
        assert "recommend_book" in response.read().decode()
        connection.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
