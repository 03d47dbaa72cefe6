"""`web-search`: an MCP server that searches the web without an API key.

It asks DuckDuckGo's HTML endpoint (or `--endpoint`, any page in the same markup) and parses
the results into title, URL and snippet. The request goes through the fetch server's
`GuardedClient`, so the endpoint, and every redirect from it, must be a public address
(`--allow-private` opts out, as for fetch). The endpoint is queried on the user's behalf rather
than crawled, so its robots.txt is not consulted; the result URLs are returned, never fetched.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from ._common import run
from .fetch import FetchPolicy, GuardedClient

__all__ = ["DEFAULT_ENDPOINT", "SearchResult", "build", "main", "parse_results", "server"]

DEFAULT_ENDPOINT: Final = "https://html.duckduckgo.com/html/"
MAX_RESULTS: Final = 30
_PAGE_MAX_BYTES: Final = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One web search hit."""

    title: str
    url: str
    snippet: str


def _target_url(href: str, base_url: str) -> str | None:
    """The destination of a result link, unwrapping DuckDuckGo's `/l/?uddg=` redirect."""
    absolute = urljoin(base_url, href)
    parts = urlsplit(absolute)
    if parts.path == "/l/":
        wrapped = parse_qs(parts.query).get("uddg")
        if wrapped:
            absolute = wrapped[0]
            parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https"):
        return None
    # Ads go through DuckDuckGo's own click tracker (`/y.js`): not results.
    if parts.hostname and parts.hostname.endswith("duckduckgo.com"):
        return None
    return absolute


class _ResultParser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.results: list[dict[str, str]] = []
        self.saw_no_results = False
        self._field: str | None = None
        self._tag = ""
        self._depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if "no-results" in classes:
            self.saw_no_results = True
        if self._field is not None:
            if tag == self._tag:
                self._depth += 1
            return
        if tag == "a" and "result__a" in classes:
            url = _target_url(attributes.get("href") or "", self.base_url)
            self.results.append({"url": url or "", "title": "", "snippet": ""})
            self._begin("title", tag)
        elif "result__snippet" in classes and self.results:
            self._begin("snippet", tag)

    def _begin(self, name: str, tag: str) -> None:
        self._field, self._tag, self._depth, self._text = name, tag, 1, []

    def handle_endtag(self, tag: str) -> None:
        if self._field is None or tag != self._tag:
            return
        self._depth -= 1
        if self._depth == 0:
            self.results[-1][self._field] = " ".join("".join(self._text).split())
            self._field = None

    def handle_data(self, data: str) -> None:
        if self._field is not None:
            self._text.append(data)


def parse_results(html: str, base_url: str = DEFAULT_ENDPOINT) -> tuple[list[SearchResult], bool]:
    """Results from a DuckDuckGo HTML results page, and whether the page said there were none."""
    parser = _ResultParser(base_url)
    parser.feed(html)
    parser.close()
    results = [
        SearchResult(title=hit["title"], url=hit["url"], snippet=hit["snippet"])
        for hit in parser.results
        if hit["url"] and hit["title"]
    ]
    return results, parser.saw_no_results


def build(endpoint: str = DEFAULT_ENDPOINT, policy: FetchPolicy | None = None) -> MCPServer[Any]:
    """Build the web-search server with one tool, `web_search`, querying `endpoint` under `policy`."""
    scheme = urlsplit(endpoint).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"--endpoint must be an http or https URL, not {endpoint!r}")
    client = GuardedClient(policy)
    mcp = MCPServer(
        name="mirascope-mcp-web-search",
        instructions="Search the web; returns titles, URLs and snippets. Use a fetch tool to read a result.",
    )

    @mcp.tool()
    async def web_search(query: str, max_results: int = 10) -> list[SearchResult]:
        """Search the web and return the top results as title, URL and snippet.

        Args:
            query: What to search for.
            max_results: The most results to return (1 to 30).
        """
        if not query.strip():
            raise ToolError("query is empty: say what to search for.")
        if not 1 <= max_results <= MAX_RESULTS:
            raise ToolError(f"max_results must be between 1 and {MAX_RESULTS}.")
        separator = "&" if urlsplit(endpoint).query else "?"
        url = f"{endpoint}{separator}{urlencode({'q': query})}"
        page = await client.get(
            url,
            accept=lambda media_type: media_type in ("text/html", "application/xhtml+xml"),
            max_bytes=_PAGE_MAX_BYTES,
            respect_robots=False,
        )
        results, said_none = parse_results(page.text, page.url)
        if not results and not said_none:
            raise ToolError(
                "The search endpoint answered without any results in a form this server reads "
                "(it may be rate limiting or showing a challenge page); try again later."
            )
        return results[:max_results]

    return mcp


server: MCPServer[Any] = build()
"""The server querying DuckDuckGo, public addresses only."""


def _flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        default=DEFAULT_ENDPOINT,
        help=f"the results page to query with ?q= (default {DEFAULT_ENDPOINT})",
    )
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="let the endpoint be a loopback, private or link-local address (default: public only)",
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the web-search server over stdio (default) or streamable HTTP."""
    run(
        lambda args: build(str(args.endpoint), FetchPolicy(allow_private=bool(args.allow_private))),
        argv,
        name="mirascope-mcp-web-search",
        description="Search the web without an API key (DuckDuckGo's HTML endpoint by default).",
        add_arguments=_flags,
    )


if __name__ == "__main__":
    main()
