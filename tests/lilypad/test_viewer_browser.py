"""The viewer in a real headless Chromium (Debian's `chromium`, driven by Playwright): what a user sees and does.

Never `playwright install`: the browser is the system's, which CI installs (`.ci/run`). Screenshots
land in tests/artifacts/viewer/ (ignored by git); each test prints where.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from mirascope.lilypad._store import Store
from mirascope.lilypad._viewer import ViewerServer, make_server
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect, sync_playwright

from tests.support.lilypad_store import HOSTILE_NAME, HOSTILE_PROMPT, FilledStore, fill_store
from tests.support.replay import ReplayServer

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "viewer"


@pytest.fixture(scope="module")
def filled(replay_server: ReplayServer, tmp_path_factory: pytest.TempPathFactory) -> FilledStore:
    folder = tmp_path_factory.mktemp("viewer-browser")
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(
            f"the viewer's browser tests need Debian's chromium at {CHROMIUM}: run `apt-get install chromium` "
            "(.ci/run does this in CI); never `playwright install`"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            yield launched
        finally:
            launched.close()


class Watched:
    """A page, with every dialog, page error and console error it raised."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._console)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    def assert_clean(self) -> None:
        assert self.dialogs == []
        assert self.errors == []
        assert self.page.evaluate("window.__pwned") is None


@pytest.fixture
def page(browser: Browser, server: ViewerServer) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    # Offline: nothing but the viewer may be reached; anything else would fail the page.
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(server.url) else route.abort()
    )
    watched = Watched(context.new_page())
    try:
        yield watched
    finally:
        context.close()


def test_open_a_trace_expand_its_tree_and_read_the_conversation_and_tools(
    page: Watched, server: ViewerServer, filled: FilledStore
) -> None:
    view = page.page
    view.goto(server.url)
    rows = view.locator("#traces-table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 8
    agent_row = view.locator(f'tr[data-trace-id="{filled.agent}"]')
    expect(agent_row).to_contain_text("invoke_agent keeper")
    expect(agent_row).to_contain_text("gpt-4o")
    expect(view.locator(f'tr[data-trace-id="{filled.stream}"] td').nth(7)).to_have_text(re.compile(r"\d+(\.\d+)? m?s"))
    page.screenshot("traces")

    agent_row.click()
    tree = view.locator("#span-tree")
    expect(tree.locator(".span-row").first).to_contain_text("invoke_agent keeper")
    # The agent and its two chats show; the first chat's tools start folded away.
    expect(tree.locator(".span-row")).to_have_count(3)
    expect(tree.get_by_text("execute_tool secret_retrieval_tool")).to_have_count(0)
    asking = tree.locator(".span-row").nth(1)
    expect(asking.locator(".toggle")).to_have_attribute("aria-expanded", "false")
    asking.locator(".toggle").click()
    expect(tree.locator(".span-row")).to_have_count(5)
    expect(tree.get_by_text("execute_tool secret_retrieval_tool")).to_have_count(2)

    # The last chat is selected: the whole conversation, as chat, with the tool calls and results.
    chat = view.locator("#span-detail .chat")
    expect(chat.locator(".message.role-user")).to_contain_text("mellon,radiance")
    expect(chat.locator(".message.role-system")).to_contain_text("Use parallel tool calling.")
    expect(chat.locator(".part.tool-call")).to_have_count(2)
    expect(chat.locator(".part.tool-call").first).to_contain_text("secret_retrieval_tool")
    expect(chat.locator(".part.tool-call").first).to_contain_text('"password"')
    expect(chat.locator(".part.tool-result")).to_have_count(2)
    expect(chat.locator(".part.tool-result").first).to_contain_text("Welcome to Moria!")
    expect(chat.locator(".message.role-assistant").last).to_contain_text("Moria")
    page.screenshot("trace")

    # A tool span shows its arguments and result.
    tree.get_by_text("execute_tool secret_retrieval_tool").first.click()
    detail = view.locator("#span-detail .tool")
    expect(detail).to_contain_text("secret_retrieval_tool")
    expect(detail.locator(".block").first).to_contain_text("password")
    expect(detail.locator(".block").last).to_contain_text(re.compile("Welcome to Moria!|Life before Death"))
    # Collapsing folds the tools away again.
    asking.locator(".toggle").click()
    expect(tree.locator(".span-row")).to_have_count(3)
    page.assert_clean()


def test_filter_the_traces_by_function_version_and_errors(
    page: Watched, server: ViewerServer, filled: FilledStore
) -> None:
    view = page.page
    view.goto(server.url)
    filters = view.locator("form.filters")
    filters.locator("select[name=function]").select_option("recommend_book")
    filters.get_by_role("button", name="Filter").click()
    rows = view.locator("#traces-table tbody tr")
    expect(rows).to_have_count(3)
    filters = view.locator("form.filters")
    filters.locator("input[name=version]").fill("1.1")
    filters.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-trace-id", filled.versioned["1.1"][0])
    view.goto(f"{server.url}#/traces?errors=true")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-trace-id", filled.error)
    expect(rows.first).to_contain_text("error")
    page.assert_clean()


def test_annotate_a_trace_and_find_it_in_the_store(page: Watched, server: ViewerServer, filled: FilledStore) -> None:
    view = page.page
    view.goto(f"{server.url}#/trace/{filled.stream}")
    form = view.locator("#annotate-form")
    expect(view.locator("#annotations")).to_contain_text("Not annotated yet.")
    form.get_by_label("Fail").check()
    form.locator("textarea").fill("answered <i>4242</i> but too slowly")
    form.get_by_role("button", name="Save annotation").click()
    note = view.locator("#annotations .annotation")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("fail")
    expect(note).to_contain_text("answered <i>4242</i> but too slowly")
    expect(note).to_contain_text("viewer")
    page.screenshot("annotated")

    store = Store(filled.path, readonly=True)
    try:
        (stored,) = store.annotations(filled.stream)
    finally:
        store.close()
    assert (stored.label, stored.reason, stored.source) == ("fail", "answered <i>4242</i> but too slowly", "viewer")
    # And the `lilypad` command lists the trace with its label.
    listed = subprocess.run(
        [str(Path(sys.executable).with_name("lilypad")), "traces", "--db", str(filled.path), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    (row,) = [trace for trace in json.loads(listed.stdout) if trace["trace_id"] == filled.stream]
    assert row["annotation"] == "fail"
    # Back on the list, the trace carries its label.
    view.goto(server.url)
    expect(view.locator(f'tr[data-trace-id="{filled.stream}"] .badge')).to_have_text("fail")
    page.assert_clean()


def test_diff_two_versions_side_by_side(page: Watched, server: ViewerServer) -> None:
    view = page.page
    view.goto(server.url)
    view.get_by_role("link", name="Functions").click()
    row = view.locator("#functions-table tr.function-row", has_text="recommend_book")
    expect(row).to_contain_text("1.1")
    row.click()
    versions = view.locator("#versions-table tr.version-row")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("1.0")
    expect(versions.nth(0).locator("td").nth(5)).to_have_text("2")  # traces of 1.0
    view.get_by_label("A: 1.0").check()
    view.get_by_label("B: 1.1").check()
    view.locator("#compare").click()
    diff = view.locator("#diff-table")
    expect(diff).to_be_visible()
    changed = diff.locator("tr.diff-replace")
    expect(changed).to_have_count(1)
    expect(changed.locator("td.code.a")).to_have_text('    return f"Recommend a {genre} book"')
    expect(changed.locator("td.code.b")).to_have_text(
        "    return f\"Recommend a {genre} book <script>alert('v')</script>, and say why\""
    )
    expect(diff.locator("tr.diff-equal")).to_have_count(3)
    page.screenshot("diff")
    page.assert_clean()


def test_sessions_group_their_traces(page: Watched, server: ViewerServer, filled: FilledStore) -> None:
    view = page.page
    view.goto(f"{server.url}#/sessions")
    group = view.locator(f'details.session[data-session-id="{filled.session_id}"]')
    expect(group).to_contain_text("1 trace")
    group.locator("summary").click()
    expect(group.locator(f'tr[data-trace-id="{filled.session}"]')).to_be_visible()
    page.screenshot("sessions")
    page.assert_clean()


def test_a_prompt_with_script_renders_as_text_and_runs_nothing(
    page: Watched, server: ViewerServer, filled: FilledStore
) -> None:
    view = page.page
    view.goto(server.url)
    hostile_row = view.locator(f'tr[data-trace-id="{filled.hostile}"]')
    expect(hostile_row).to_contain_text(HOSTILE_NAME)
    hostile_row.click()
    expect(view.locator("#trace h1")).to_have_text(HOSTILE_NAME)
    expect(view.locator("#span-detail .chat .message.role-user")).to_contain_text(HOSTILE_PROMPT)
    # The only script is the viewer's own, and no element came from the stored markup.
    assert view.locator("script").count() == 1
    assert view.locator("img").count() == 0
    assert view.locator("main script, main img, main b").count() == 0
    page.screenshot("escaped")
    page.assert_clean()
