"""`fetch`: an MCP server that fetches a URL and returns it as markdown or text.

The reference fetch server lets a model reach the cloud metadata service and anything else on
the host's network, and follows redirects there. This one refuses, at every hop:

- schemes other than `http` and `https`, and URLs carrying `user:password@`;
- any host with an address that is not public (loopback, private, link-local including
  169.254.169.254, carrier-grade NAT, unique-local, IPv4-mapped/compatible and other IPv6
  forms embedding an IPv4 address, `0.0.0.0`, `::`, multicast, reserved, documentation);
  *every* address a name resolves to is checked, and the connection goes to the address that
  was checked (with the original `Host` header and TLS server name), so a second DNS answer
  cannot swap it (DNS rebinding);
- redirects are followed by hand, at most `MAX_REDIRECTS`, each target checked again;
- bodies over the byte cap (counted while streaming, after decompression);
- content types other than HTML (converted to markdown), `text/*` and JSON;
- paths the site's robots.txt disallows for our user agent (`--ignore-robots-txt` to skip).

`--allow-private` turns the address check off, for a server that is meant to reach the local
network. `web_search` sends its requests through the same `GuardedClient`.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import socket
import ssl
import time
import urllib.robotparser
import zlib
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import anyio
import httpx2
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from ._common import run

__all__ = [
    "DEFAULT_USER_AGENT",
    "FetchPolicy",
    "FetchedPage",
    "GuardedClient",
    "build",
    "html_to_markdown",
    "main",
    "server",
]

DEFAULT_USER_AGENT: Final = "mirascope-mcp-fetch/2 (+https://github.com/Mirascope/mirascope)"
ROBOTS_AGENT: Final = "mirascope-mcp-fetch"
MAX_REDIRECTS: Final = 5
DEFAULT_MAX_BYTES: Final = 5 * 1024 * 1024
ROBOTS_MAX_BYTES: Final = 512 * 1024
DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_DEADLINE: Final = 120.0
_ROBOTS_CACHE_SIZE: Final = 256
ROBOTS_TTL: Final = 3600.0
"""Seconds a site's parsed robots.txt is reused before it is read again."""

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Host and port to every address the host resolves to (as strings)."""


async def resolve_with_getaddrinfo(host: str, port: int) -> list[str]:
    """Resolve a host name with the system resolver, every address family."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchPolicy:
    """What the guarded client may reach."""

    allow_private: bool = False
    """Skip the public-address check entirely (`--allow-private`)."""

    exempt_origins: frozenset[str] = frozenset()
    """Exact origins (`http://127.0.0.1:8123`) exempt from the address check, nothing else.

    For test fixtures and local development from Python only; there is no flag for it, so
    a model can never widen it. Redirects out of an exempt origin are checked as usual."""

    respect_robots_txt: bool = True
    """Refuse paths the site's robots.txt disallows for `mirascope-mcp-fetch`."""

    max_bytes: int = DEFAULT_MAX_BYTES
    """Largest body read, counted while streaming after content decoding."""

    timeout: float = DEFAULT_TIMEOUT
    """Seconds for connecting and for each read."""

    deadline: float = DEFAULT_DEADLINE
    """Seconds for a whole fetch, redirects and robots.txt included: a trickling server ends here."""

    user_agent: str = DEFAULT_USER_AGENT

    tls_context: ssl.SSLContext | None = None
    """Certificates to trust for https; `None` uses the system's. Certificates are always verified."""

    resolver: Resolver = field(default=resolve_with_getaddrinfo)
    """Name resolution; tests swap it to map a name to a private address."""


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A body the guard let through."""

    url: str
    """The final URL, after redirects."""
    content_type: str
    """The media type, lowercased, without parameters."""
    text: str
    """The body decoded with its declared charset (UTF-8 otherwise)."""


# --- the address check -------------------------------------------------------------------

_BLOCKED_NETWORKS: Final = tuple(
    ipaddress.ip_network(network)
    for network in (
        # IPv4: IANA special-purpose registry, each also caught by `is_global` on 3.11+;
        # listed so the rule does not depend on the Python version's table.
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        # IPv6, including every prefix that embeds an IPv4 address a router may unwrap.
        "::/96",  # unspecified, loopback, IPv4-compatible
        "::ffff:0:0/96",  # IPv4-mapped
        "::ffff:0:0:0/96",  # IPv4-translated
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",  # Teredo and other IETF protocol assignments
        "2001:db8::/32",
        "2002::/16",  # 6to4
        "3fff::/20",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)


def address_refusal(address: str) -> str | None:
    """Why `address` must not be connected to, or `None` when it is a public unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    for network in _BLOCKED_NETWORKS:
        if ip.version == network.version and ip in network:
            return f"{ip} is in the non-public range {network}"
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_link_local:
        return f"{ip} is not a public address"
    return None


_LEGACY_IPV4: Final = re.compile(r"^[0-9a-fx.]+$", re.IGNORECASE)


def _literal_address(host: str) -> str | None:
    """The address a numeric host denotes, in any form a resolver accepts (`0177.1`, `0x7f.1`)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


# --- the guarded client ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    url: str
    scheme: str
    host: str
    port: int
    address: str


class GuardedClient:
    """Sends GET requests only to vetted public addresses, pinned, redirects checked by hand."""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._tls: ssl.SSLContext | None = self.policy.tls_context

    def _tls_context(self) -> ssl.SSLContext:
        # Loading the system's certificates takes ~20 ms: once per client, not once per hop.
        if self._tls is None:
            self._tls = httpx2.create_ssl_context(trust_env=False)  # what verify=True would build, once
        return self._tls

    async def _vet(self, url: str) -> _Target:
        if "\\" in url or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
            raise ToolError(
                "Refused: the URL contains whitespace, control characters or backslashes "
                "(percent-encode them, e.g. a space as %20)."
            )
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise ToolError(f"Refused: only http and https URLs can be fetched, not {scheme or 'a relative URL'}.")
        if "@" in parts.netloc:
            raise ToolError("Refused: URLs with a user name or password (user@host) are not fetched.")
        try:
            port = parts.port if parts.port is not None else (443 if scheme == "https" else 80)
        except ValueError:
            raise ToolError("Refused: the URL's port is not a number between 0 and 65535.") from None
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            raise ToolError("Refused: the URL has no host.")
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise ToolError("Refused: the host is not a valid internationalized domain name.") from None
        default_port = parts.port is None or parts.port == (443 if scheme == "https" else 80)
        authority = f"[{host}]" if ":" in host else host
        origin = f"{scheme}://{authority}" + ("" if default_port else f":{port}")
        exempt = self.policy.allow_private or origin in self.policy.exempt_origins
        literal = _literal_address(host)
        if literal is not None:
            addresses: Sequence[str] = [literal]
        else:
            try:
                addresses = await self.policy.resolver(host, port)
            except OSError as error:
                raise ToolError(f"Could not resolve {host!r}: {error.strerror or error}.") from None
            if not addresses:
                raise ToolError(f"Could not resolve {host!r}: no addresses.")
        if not exempt:
            for address in addresses:
                reason = address_refusal(address)
                if reason is not None:
                    raise ToolError(
                        f"Refused: {host} resolves to {reason}; fetch only reaches public addresses "
                        "(start the server with --allow-private to reach local networks)."
                    )
        # IPv4 first: many hosts resolve AAAA records they have no route for.
        address = sorted(addresses, key=lambda candidate: ":" in candidate)[0].split("%", 1)[0]
        return _Target(url=url, scheme=scheme, host=host, port=port, address=address)

    async def get(
        self,
        url: str,
        *,
        accept: Callable[[str], bool],
        max_bytes: int | None = None,
        respect_robots: bool | None = None,
    ) -> FetchedPage:
        """Fetch `url`, following redirects; `accept` decides on the media type before the body."""
        cap = self.policy.max_bytes if max_bytes is None else max_bytes
        robots = self.policy.respect_robots_txt if respect_robots is None else respect_robots
        try:
            with anyio.fail_after(self.policy.deadline):
                return await self._follow(url, accept, cap, robots)
        except TimeoutError:
            raise ToolError(f"Gave up on {url}: no complete answer within {self.policy.deadline:g} seconds.") from None
        except (httpx2.HTTPError, httpx2.InvalidURL) as error:
            raise ToolError(f"Could not fetch {url}: {type(error).__name__}: {error}.") from None

    async def _follow(self, url: str, accept: Callable[[str], bool], cap: int, robots: bool) -> FetchedPage:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            target = await self._vet(current)
            if robots:
                await self._check_robots(target)
            # A client per hop: a pooled connection opened for one host name must not carry a
            # request for another name on the same address. trust_env=False: a proxy from the
            # environment would connect to the name, not the vetted address.
            async with (
                httpx2.AsyncClient(
                    follow_redirects=False,
                    trust_env=False,
                    timeout=httpx2.Timeout(self.policy.timeout),
                    verify=self._tls_context(),
                ) as client,
                self._stream(client, target) as response,
            ):
                if 300 <= response.status_code < 400:
                    location = response.headers.get("location")
                    if not location:
                        raise ToolError(f"{current} answered {response.status_code} without a Location.")
                    current = urljoin(current, location)
                    continue
                if response.status_code >= 400:
                    raise _StatusError(current, response.status_code)
                content_type = response.headers.get("content-type", "")
                media_type = content_type.split(";", 1)[0].strip().lower()
                if not accept(media_type):
                    raise ToolError(
                        f"Refused: {current} is {media_type or 'of no declared type'}; "
                        "only HTML, text and JSON are fetched."
                    )
                body = await _read_capped(response, current, cap)
                encoding = response.charset_encoding or "utf-8"
                try:
                    text = body.decode(encoding, errors="replace")
                except LookupError:
                    text = body.decode("utf-8", errors="replace")
                return FetchedPage(url=current, content_type=media_type, text=text)
        raise ToolError(f"Refused: more than {MAX_REDIRECTS} redirects starting at {url}.")

    def _stream(self, client: httpx2.AsyncClient, target: _Target) -> AbstractAsyncContextManager[httpx2.Response]:
        parts = urlsplit(target.url)
        ip = target.address
        pinned_host = f"[{ip}]" if ":" in ip else ip
        pinned = parts._replace(scheme=target.scheme, netloc=f"{pinned_host}:{target.port}").geturl()
        default_port = target.port == (443 if target.scheme == "https" else 80)
        authority = f"[{target.host}]" if ":" in target.host else target.host
        host_header = authority if default_port else f"{authority}:{target.port}"
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        return client.stream(
            "GET",
            pinned,
            headers={
                "Host": host_header,
                "User-Agent": self.policy.user_agent,
                "Accept": "*/*",
                "Accept-Encoding": "gzip, deflate",
            },
            extensions=extensions,
        )

    async def _check_robots(self, target: _Target) -> None:
        parts = urlsplit(target.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        parser = self._robots.get(origin)
        if parser is None or time.time() - parser.mtime() > ROBOTS_TTL:
            parser = urllib.robotparser.RobotFileParser()
            robots_url = f"{origin}/robots.txt"
            try:
                page = await self.get(
                    robots_url, accept=lambda _type: True, max_bytes=ROBOTS_MAX_BYTES, respect_robots=False
                )
            except _StatusError as error:
                if error.status in (401, 403):
                    parser.parse(["User-agent: *", "Disallow: /"])
                elif 400 <= error.status < 500:
                    parser.parse([])
                else:
                    raise _robots_unreadable(robots_url, error) from None
            except ToolError as error:
                raise _robots_unreadable(robots_url, error) from None
            else:
                parser.parse(page.text.splitlines())
            if len(self._robots) >= _ROBOTS_CACHE_SIZE:
                self._robots.clear()
            self._robots[origin] = parser
        if not parser.can_fetch(ROBOTS_AGENT, target.url):
            raise ToolError(
                f"Refused: {origin}/robots.txt disallows {target.url} for {ROBOTS_AGENT}; "
                "start the server with --ignore-robots-txt to fetch it anyway."
            )


class _Deflate:
    """HTTP `deflate`, which servers send both zlib-wrapped (as RFC 9110 says) and raw."""

    def __init__(self) -> None:
        self._inner: Any = None

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._inner is None:
            zlib_wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self._inner = zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
        return self._inner.decompress(data, max_length)

    @property
    def unconsumed_tail(self) -> bytes:
        return self._inner.unconsumed_tail if self._inner is not None else b""


async def _read_capped(response: httpx2.Response, url: str, cap: int) -> bytes:
    """The body, decompressed here in bounded steps so a small compressed bomb cannot expand past `cap`."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decompressor = _Deflate()
    elif encoding in ("identity", ""):
        decompressor = None
    else:
        raise ToolError(f"Refused: {url} is sent with content-encoding {encoding!r}; only gzip and deflate are read.")
    body = bytearray()

    def add(data: bytes) -> None:
        body.extend(data)
        if len(body) > cap:
            raise ToolError(f"Refused: {url} is larger than the {cap}-byte cap.")

    async for chunk in response.aiter_raw():
        if decompressor is None:
            add(chunk)
            continue
        pending = chunk
        while pending:
            try:
                add(decompressor.decompress(pending, cap + 1 - len(body)))
            except zlib.error:
                raise ToolError(f"Could not fetch {url}: the {encoding} body is corrupt.") from None
            pending = decompressor.unconsumed_tail
    return bytes(body)


class _StatusError(ToolError):
    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{url} answered HTTP {status}.")
        self.status = status


def _robots_unreadable(robots_url: str, error: ToolError) -> ToolError:
    # RFC 9309 2.3.1.4: an unreachable robots.txt means the site may not be crawled.
    return ToolError(
        f"Refused: robots.txt at {robots_url} could not be read ({error}); "
        "start the server with --ignore-robots-txt to skip it."
    )


def _is_fetchable(media_type: str) -> bool:
    return (
        media_type.startswith("text/")
        or media_type in ("application/json", "application/xhtml+xml", "application/ld+json")
        or media_type.endswith("+json")
    )


# --- HTML to markdown --------------------------------------------------------------------

_SKIPPED: Final = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "head", "object"})
_BLOCKS: Final = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "table", "tr", "form"}
    | {"ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "details", "summary"}
)
_VOID: Final = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "source", "wbr"})


class _MarkdownWriter(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.out: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.lists: list[list[int]] = []
        self.links: list[str | None] = []
        self.quote_depth = 0

    def _newline(self, count: int = 2) -> None:
        self.out.append("\n" * count + "> " * self.quote_depth)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            if tag not in _VOID:
                self.skip_depth += 1
            return
        if self.skip_depth:
            return
        attributes = dict(attrs)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._newline()
            self.out.append("#" * int(tag[1]) + " ")
        elif tag in _BLOCKS:
            self._newline()
        elif tag == "br":
            self._newline(1)
        elif tag == "hr":
            self._newline()
            self.out.append("---")
            self._newline()
        elif tag == "li":
            self._newline(1)
            indent = "  " * max(len(self.lists) - 1, 0)
            if self.lists and self.lists[-1]:
                self.lists[-1][0] += 1
                self.out.append(f"{indent}{self.lists[-1][0]}. ")
            else:
                self.out.append(f"{indent}- ")
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "code" and not self.pre_depth:
            self.out.append("`")
        elif tag == "pre":
            self.pre_depth += 1
            self._newline()
            self.out.append("```\n")
        elif tag == "blockquote":
            self.quote_depth += 1
            self._newline()
        elif tag == "a":
            href = attributes.get("href")
            usable = href and not href.lower().startswith(("javascript:", "data:"))
            self.links.append(urljoin(self.base_url, href) if usable and href else None)
            self.out.append("[")
        elif tag == "img":
            src = attributes.get("src")
            if src and not src.lower().startswith("data:"):
                self.out.append(f"![{attributes.get('alt') or ''}]({urljoin(self.base_url, src)})")
        elif tag in ("td", "th"):
            self.out.append(" | ")
        if tag in ("ul", "ol"):
            self.lists.append([0] if tag == "ol" else [])

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(self.skip_depth - 1, 0)
            return
        if self.skip_depth:
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") or tag in _BLOCKS:
            self._newline()
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "code" and not self.pre_depth:
            self.out.append("`")
        elif tag == "pre" and self.pre_depth:
            self.pre_depth -= 1
            self.out.append("\n```")
            self._newline()
        elif tag == "blockquote" and self.quote_depth:
            self.quote_depth -= 1
            self._newline()
        elif tag == "a" and self.links:
            href = self.links.pop()
            self.out.append(f"]({href})" if href else "]")
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            self.out.append(data)
        else:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_markdown(html: str, base_url: str = "") -> str:
    """Convert HTML to compact markdown: headings, paragraphs, lists, links, emphasis, code."""
    writer = _MarkdownWriter(base_url)
    writer.feed(html)
    writer.close()
    text = "".join(writer.out)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n[ \t]+(?=[^-\d >|`])", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = re.sub(r"\[\s*\]\([^)]*\)", "", text)
    return text.strip()


def _render(page: FetchedPage, raw: bool) -> str:
    if raw:
        return page.text
    if page.content_type in ("text/html", "application/xhtml+xml"):
        return html_to_markdown(page.text, page.url)
    if page.content_type == "application/json" or page.content_type.endswith("+json"):
        try:
            return json.dumps(json.loads(page.text), indent=2, ensure_ascii=False)
        except ValueError:
            return page.text
    return page.text


# --- the server --------------------------------------------------------------------------


def build(policy: FetchPolicy | None = None) -> MCPServer[Any]:
    """Build the fetch server with one tool, `fetch`, under `policy`."""
    client = GuardedClient(policy)
    mcp = MCPServer(
        name="mirascope-mcp-fetch",
        instructions="Fetch public web pages as markdown or text. Private and local addresses are refused.",
    )

    @mcp.tool()
    async def fetch(url: str, max_length: int = 5000, start_index: int = 0, raw: bool = False) -> str:
        """Fetch a URL and return its content as markdown (HTML) or text (text, JSON).

        Args:
            url: The http or https URL to fetch.
            max_length: The most characters to return.
            start_index: The character to start at; use it to read the next part of a long page.
            raw: Return the HTML source instead of markdown.
        """
        if max_length < 1 or max_length > 1_000_000:
            raise ToolError("max_length must be between 1 and 1000000.")
        if start_index < 0:
            raise ToolError("start_index must be 0 or more.")
        page = await client.get(url, accept=_is_fetchable)
        content = _render(page, raw)
        if start_index >= len(content) and content:
            raise ToolError(f"start_index {start_index} is past the end: the content has {len(content)} characters.")
        part = content[start_index : start_index + max_length]
        end = start_index + len(part)
        if end < len(content):
            part += (
                f"\n\n[Content truncated: characters {start_index}-{end} of {len(content)}. "
                f"Call fetch with start_index={end} for more.]"
            )
        return f"Contents of {page.url}:\n{part}"

    return mcp


server: MCPServer[Any] = build()
"""The server with the default policy: public addresses only, robots.txt respected."""


def _flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="also reach loopback, private and link-local addresses (default: public addresses only)",
    )
    parser.add_argument("--ignore-robots-txt", action="store_true", help="fetch paths robots.txt disallows")
    parser.add_argument(
        "--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help=f"largest body read (default {DEFAULT_MAX_BYTES})"
    )
    parser.add_argument("--user-agent", default=DEFAULT_USER_AGENT, help="the User-Agent header sent")


def policy_from_args(args: argparse.Namespace) -> FetchPolicy:
    """The policy the parsed flags ask for."""
    if args.max_bytes < 1:
        raise ValueError("--max-bytes must be 1 or more")
    return FetchPolicy(
        allow_private=bool(args.allow_private),
        respect_robots_txt=not args.ignore_robots_txt,
        max_bytes=int(args.max_bytes),
        user_agent=str(args.user_agent),
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the fetch server over stdio (default) or streamable HTTP."""
    run(
        lambda args: build(policy_from_args(args)),
        argv,
        name="mirascope-mcp-fetch",
        description="Fetch public web pages as markdown or text for a model, refusing private addresses.",
        add_arguments=_flags,
    )


if __name__ == "__main__":
    main()
