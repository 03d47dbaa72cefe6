"""The web-search server through the SDK's own client, against a local results page on 127.0.0.1.

The page is hand-written in the markup of DuckDuckGo's HTML endpoint (`result__a` title links
wrapped in `/l/?uddg=` redirects, `result__snippet`, `result--ad` ads, `no-results`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent
from mirascope.mcp.servers.fetch import FetchPolicy
from mirascope.mcp.servers.web_search import build, main

from tests.mcp_servers.web_fixture import WebFixture, page, redirect

RESULTS_PAGE = """<!DOCTYPE html><html><body><div id="links" class="results">
<div class="result results_links results_links_deep result--ad">
  <h2 class="result__title">
    <a class="result__a" href="https://duckduckgo.com/y.js?ad_domain=ads.example">Buy now</a>
  </h2>
  <a class="result__snippet" href="https://duckduckgo.com/y.js?ad">An advert</a>
</div>
<div class="result results_links results_links_deep web-result">
  <h2 class="result__title">
    <a rel="nofollow" class="result__a"
       href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.python.org%2F&amp;rut=abc">Welcome to <b>Python</b>.org</a>
  </h2>
  <a class="result__snippet" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.python.org%2F"
    >The official home of the <b>Python</b> Programming Language</a>
</div>
<div class="result results_links results_links_deep web-result">
  <h2 class="result__title"><a class="result__a" href="https://docs.python.org/3/">Python 3 documentation</a></h2>
  <div class="result__snippet">Tutorial, library &amp; language <span>reference</span>.</div>
</div>
<div class="result results_links results_links_deep web-result">
  <h2 class="result__title"><a class="result__a" href="//duckduckgo.com/l/?uddg=javascript%3Aalert(1)">Sneaky</a></h2>
</div>
<div class="result results_links results_links_deep web-result">
  <h2 class="result__title"><a class="result__a" href="https://pypi.org/">PyPI</a></h2>
</div>
</div></body></html>"""

NO_RESULTS_PAGE = '<html><body><div class="no-results">No results.</div></body></html>'
CHALLENGE_PAGE = "<html><body><form>Please confirm you are human</form></body></html>"


async def _call(server: MCPServer[Any], arguments: dict[str, Any]) -> CallToolResult:
    async with Client(server) as client:
        return await client.call_tool("web_search", arguments)


def search(server: MCPServer[Any], query: str, **arguments: Any) -> CallToolResult:
    return anyio.run(partial(_call, server, {"query": query, **arguments}))


def text_of(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


def hits(result: CallToolResult) -> list[dict[str, str]]:
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return result.structured_content["result"]


@pytest.fixture
def endpoint() -> Iterator[WebFixture]:
    with WebFixture(
        {
            "/html/": page(RESULTS_PAGE),
            "/none/": page(NO_RESULTS_PAGE),
            "/challenge/": page(CHALLENGE_PAGE),
            "/json/": page("{}", "application/json"),
        }
    ) as fixture:
        yield fixture


def serving(endpoint: WebFixture, path: str = "/html/") -> MCPServer[Any]:
    return build(f"{endpoint.origin}{path}", FetchPolicy(exempt_origins=frozenset({endpoint.origin})))


def test_web_search_returns_title_url_and_snippet(endpoint: WebFixture) -> None:
    results = hits(search(serving(endpoint), "python language"))
    assert results == [
        {
            "title": "Welcome to Python.org",
            "url": "https://www.python.org/",
            "snippet": "The official home of the Python Programming Language",
        },
        {
            "title": "Python 3 documentation",
            "url": "https://docs.python.org/3/",
            "snippet": "Tutorial, library & language reference.",
        },
        {"title": "PyPI", "url": "https://pypi.org/", "snippet": ""},
    ]
    [request] = endpoint.seen
    assert parse_qs(urlsplit(request.path).query) == {"q": ["python language"]}
    assert "robots.txt" not in endpoint.paths


def test_web_search_caps_the_number_of_results(endpoint: WebFixture) -> None:
    assert [hit["title"] for hit in hits(search(serving(endpoint), "python", max_results=1))] == [
        "Welcome to Python.org"
    ]
    assert "max_results" in text_of(search(serving(endpoint), "python", max_results=0))


def test_web_search_returns_no_hits_when_the_endpoint_says_none(endpoint: WebFixture) -> None:
    assert hits(search(serving(endpoint, "/none/"), "zzzz")) == []


def test_web_search_reports_a_page_it_cannot_read(endpoint: WebFixture) -> None:
    result = search(serving(endpoint, "/challenge/"), "python")
    assert result.is_error
    assert "rate limiting" in text_of(result)
    result = search(serving(endpoint, "/json/"), "python")
    assert result.is_error
    assert "only HTML" in text_of(result)


def test_web_search_refuses_an_empty_query(endpoint: WebFixture) -> None:
    result = search(serving(endpoint), "   ")
    assert result.is_error
    assert "query is empty" in text_of(result)
    assert endpoint.seen == []


def test_web_search_refuses_a_private_endpoint_without_allow_private(endpoint: WebFixture) -> None:
    result = search(build(f"{endpoint.origin}/html/"), "python")
    assert result.is_error
    assert "127.0.0.0/8" in text_of(result)
    assert endpoint.seen == []
    assert hits(search(build(f"{endpoint.origin}/html/", FetchPolicy(allow_private=True)), "python"))


def test_web_search_refuses_an_endpoint_redirecting_to_a_private_address(endpoint: WebFixture) -> None:
    endpoint.routes["/moved/"] = redirect("http://169.254.169.254/latest/meta-data/")
    result = search(serving(endpoint, "/moved/"), "python")
    assert result.is_error
    assert "169.254.0.0/16" in text_of(result)


def test_web_search_rejects_a_non_http_endpoint() -> None:
    with pytest.raises(ValueError, match="http or https"):
        build("file:///etc/passwd")


def test_main_answers_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "--endpoint" in capsys.readouterr().out


def test_console_script_over_stdio_searches_the_given_endpoint(endpoint: WebFixture) -> None:
    script = str(Path(sys.executable).with_name("mirascope-mcp-web-search"))

    async def go(arguments: list[str]) -> CallToolResult:
        async with Client(StdioServerParameters(command=script, args=arguments)) as client:
            return await client.call_tool("web_search", {"query": "python"})

    url = f"{endpoint.origin}/html/"
    assert [hit["title"] for hit in hits(anyio.run(go, ["--endpoint", url, "--allow-private"]))][:1] == [
        "Welcome to Python.org"
    ]
    refused = anyio.run(go, ["--endpoint", url])
    assert refused.is_error
    assert "127.0.0.0/8" in text_of(refused)
    assert len(endpoint.seen) == 1
