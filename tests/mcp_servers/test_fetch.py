"""The fetch server through the SDK's own client, against real pages served on 127.0.0.1.

The fixture origin is exempted from the address check explicitly (`FetchPolicy.exempt_origins`,
Python only, no flag); everything else, including other ports on 127.0.0.1, stays refused.
"""

from __future__ import annotations

import datetime
import gzip
import json
import socket
import ssl
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from mcp import Client, StdioServerParameters
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent
from mirascope.mcp.servers.fetch import FetchPolicy, address_refusal, build, html_to_markdown, main

from tests.mcp_servers.web_fixture import WebFixture, encoded, endless, page, redirect, trickle


async def _call(server: MCPServer[Any], arguments: dict[str, Any]) -> CallToolResult:
    async with Client(server) as client:
        return await client.call_tool("fetch", arguments)


def fetch(server: MCPServer[Any], url: str, **arguments: Any) -> CallToolResult:
    return anyio.run(partial(_call, server, {"url": url, **arguments}))


def text_of(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


def ok_text(result: CallToolResult) -> str:
    assert not result.is_error, text_of(result)
    return text_of(result)


def refusal(result: CallToolResult) -> str:
    assert result.is_error, text_of(result)
    return text_of(result)


HTML = """<!doctype html><html><head><title>T</title><style>p{color:red}</style>
<script>alert("no")</script></head><body>
<h1>Hello   world</h1>
<p>Some <strong>bold</strong> and <em>soft</em> text with <a href="/next">a link</a>.</p>
<ul><li>one</li><li>two</li></ul>
<pre>code  block</pre>
</body></html>"""


@pytest.fixture
def site() -> Iterator[WebFixture]:
    with WebFixture() as fixture:
        fixture.routes.update(
            {
                "/robots.txt": page("User-agent: *\nDisallow: /private\n", "text/plain"),
                "/page": page(HTML),
                "/text": page("plain words", "text/plain; charset=utf-8"),
                "/json": page('{"b": [1, 2], "a": "x"}', "application/json"),
                "/long": page("".join(f"{i:04d}" for i in range(250)), "text/plain"),
                "/binary": page(b"\x89PNG\r\n", "image/png"),
                "/octets": page(b"\x00\x01", "application/octet-stream"),
                "/untyped": page(b"hello", None),
                "/big": page("y" * 5000, "text/plain"),
                "/endless": endless(),
                "/private": page("secret", "text/plain"),
                "/hop1": redirect("/hop2"),
                "/hop2": redirect("/text", 301),
                "/loop": redirect("/loop"),
                "/missing-location": page("", "text/plain", 302),
            }
        )
        yield fixture


@pytest.fixture
def internal() -> Iterator[WebFixture]:
    """A second server on 127.0.0.1 standing for the private network: never exempted."""
    with WebFixture({"/secret": page("internal secret", "text/plain")}) as fixture:
        yield fixture


def exempting(site: WebFixture, **policy: Any) -> MCPServer[Any]:
    return build(FetchPolicy(exempt_origins=frozenset({site.origin}), **policy))


# --- fetching ----------------------------------------------------------------------------


def test_fetch_converts_html_to_markdown(site: WebFixture) -> None:
    text = ok_text(fetch(exempting(site), f"{site.origin}/page"))
    assert text.startswith(f"Contents of {site.origin}/page:\n")
    assert "# Hello world" in text
    assert "**bold**" in text
    assert "*soft*" in text
    assert f"[a link]({site.origin}/next)" in text
    assert "- one\n- two" in text
    assert "```\ncode  block\n```" in text
    assert "alert" not in text
    assert "color:red" not in text


def test_fetch_raw_returns_the_html_source(site: WebFixture) -> None:
    assert "<h1>Hello   world</h1>" in ok_text(fetch(exempting(site), f"{site.origin}/page", raw=True))


def test_fetch_returns_text_and_pretty_json(site: WebFixture) -> None:
    server = exempting(site)
    assert ok_text(fetch(server, f"{site.origin}/text")).endswith("plain words")
    body = ok_text(fetch(server, f"{site.origin}/json")).split("\n", 1)[1]
    assert json.loads(body) == {"b": [1, 2], "a": "x"}
    assert '\n  "b": [' in body


def test_fetch_pages_with_start_index_and_max_length(site: WebFixture) -> None:
    server = exempting(site)
    first = ok_text(fetch(server, f"{site.origin}/long", max_length=40))
    assert "00000001000200030004000500060007" in first
    assert "start_index=40" in first
    assert "of 1000" in first
    last = ok_text(fetch(server, f"{site.origin}/long", start_index=960, max_length=100))
    assert last.endswith("0240024102420243024402450246024702480249")
    assert "truncated" not in last
    assert "past the end" in refusal(fetch(server, f"{site.origin}/long", start_index=1000))
    assert "start_index" in refusal(fetch(server, f"{site.origin}/long", start_index=-1))
    assert "max_length" in refusal(fetch(server, f"{site.origin}/long", max_length=0))


def test_fetch_refuses_a_body_over_the_byte_cap(site: WebFixture) -> None:
    server = exempting(site, max_bytes=1000)
    assert "1000-byte cap" in refusal(fetch(server, f"{site.origin}/big"))


def test_fetch_stops_reading_an_endless_body_at_the_cap(site: WebFixture) -> None:
    assert "cap" in refusal(fetch(exempting(site, max_bytes=64 * 1024), f"{site.origin}/endless"))


@pytest.mark.parametrize("path", ["/binary", "/octets", "/untyped"])
def test_fetch_refuses_content_types_other_than_html_text_and_json(site: WebFixture, path: str) -> None:
    assert "only HTML, text and JSON" in refusal(fetch(exempting(site), f"{site.origin}{path}"))


def test_fetch_follows_a_redirect_chain_and_reports_the_final_url(site: WebFixture) -> None:
    text = ok_text(fetch(exempting(site), f"{site.origin}/hop1"))
    assert text.startswith(f"Contents of {site.origin}/text:")
    assert text.endswith("plain words")
    assert [p for p in site.paths if p != "/robots.txt"] == ["/hop1", "/hop2", "/text"]


def test_fetch_gives_up_after_five_redirects(site: WebFixture) -> None:
    assert "more than 5 redirects" in refusal(fetch(exempting(site), f"{site.origin}/loop"))
    assert site.paths.count("/loop") == 6


def test_fetch_reports_http_errors_and_redirects_without_location(site: WebFixture) -> None:
    server = exempting(site)
    assert "HTTP 404" in refusal(fetch(server, f"{site.origin}/nowhere"))
    assert "without a Location" in refusal(fetch(server, f"{site.origin}/missing-location"))


def test_fetch_respects_robots_txt(site: WebFixture) -> None:
    message = refusal(fetch(exempting(site), f"{site.origin}/private"))
    assert "robots.txt disallows" in message
    assert "--ignore-robots-txt" in message
    assert "/private" not in site.paths
    assert ok_text(fetch(exempting(site, respect_robots_txt=False), f"{site.origin}/private")).endswith("secret")


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (403, False), (401, False), (500, False)])
def test_fetch_treats_robots_txt_statuses_per_rfc_9309(site: WebFixture, status: int, allowed: bool) -> None:
    site.routes["/robots.txt"] = page("", "text/plain", status)
    result = fetch(exempting(site), f"{site.origin}/text")
    assert result.is_error is not allowed, text_of(result)
    assert ("/text" in site.paths) is allowed


def test_fetch_connects_to_the_vetted_address_with_the_original_host_header(site: WebFixture) -> None:
    """`site.test` is in no DNS: the fetch succeeds only because it connects to the address our resolver gave."""
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> Sequence[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    origin = f"http://site.test:{site.port}"
    server = build(FetchPolicy(exempt_origins=frozenset({origin}), resolver=resolver, respect_robots_txt=False))
    assert ok_text(fetch(server, f"{origin}/text")).endswith("plain words")
    assert lookups == ["site.test"]
    assert site.seen[-1].headers["host"] == f"site.test:{site.port}"
    assert "mirascope-mcp-fetch" in site.seen[-1].headers["user-agent"]


def test_fetch_decodes_gzip_and_deflate_bodies(site: WebFixture) -> None:
    site.routes["/gz"] = encoded(gzip.compress(b"zipped words"), "gzip")
    site.routes["/deflate"] = encoded(zlib.compress(b"deflated words"), "deflate")
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    site.routes["/raw-deflate"] = encoded(raw.compress(b"raw deflated words") + raw.flush(), "deflate")
    server = exempting(site)
    assert ok_text(fetch(server, f"{site.origin}/gz")).endswith("zipped words")
    assert ok_text(fetch(server, f"{site.origin}/deflate")).endswith("deflated words")
    assert ok_text(fetch(server, f"{site.origin}/raw-deflate")).endswith("raw deflated words")


def test_fetch_refuses_a_compression_bomb_without_inflating_it(site: WebFixture) -> None:
    """64 MiB of zeros gzip to about 64 KiB; the cap stops decompression at 100 KB."""
    site.routes["/bomb"] = encoded(gzip.compress(b"\0" * (64 * 1024 * 1024)), "gzip")
    assert "100000-byte cap" in refusal(fetch(exempting(site, max_bytes=100_000), f"{site.origin}/bomb"))


def test_fetch_refuses_encodings_it_cannot_bound(site: WebFixture) -> None:
    site.routes["/br"] = encoded(b"\x0b\x02\x80hi\x03", "br")
    assert "content-encoding 'br'" in refusal(fetch(exempting(site), f"{site.origin}/br"))


def test_fetch_gives_up_on_a_trickling_server_at_the_deadline(site: WebFixture) -> None:
    release = threading.Event()
    site.routes["/slow"] = trickle(release)
    try:
        message = refusal(fetch(exempting(site, deadline=0.5), f"{site.origin}/slow"))
    finally:
        release.set()
    assert "no complete answer within 0.5 seconds" in message


def test_fetch_sends_internationalized_names_as_punycode(site: WebFixture) -> None:
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> Sequence[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    origin = f"http://xn--bcher-kva.test:{site.port}"
    server = build(FetchPolicy(exempt_origins=frozenset({origin}), resolver=resolver, respect_robots_txt=False))
    assert ok_text(fetch(server, f"http://bücher.test:{site.port}/text")).endswith("plain words")
    assert lookups == ["xn--bcher-kva.test"]
    assert site.seen[-1].headers["host"] == f"xn--bcher-kva.test:{site.port}"


def test_fetch_reports_an_unreachable_server_as_an_error() -> None:
    with WebFixture() as gone:
        port = gone.port
    server = build(FetchPolicy(allow_private=True, respect_robots_txt=False))
    message = refusal(fetch(server, f"http://127.0.0.1:{port}/"))
    assert f"Could not fetch http://127.0.0.1:{port}/: ConnectError" in message
    message = refusal(fetch(build(FetchPolicy(allow_private=True)), f"http://127.0.0.1:{port}/"))
    assert "robots.txt" in message
    assert "ConnectError" in message


def test_fetch_ignores_proxies_from_the_environment(
    site: WebFixture, internal: WebFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy connects to the name itself, after our check: the environment's is never used."""
    for variable in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(variable, internal.origin)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert ok_text(fetch(exempting(site), f"{site.origin}/text")).endswith("plain words")
    assert internal.seen == []


def test_allow_private_reaches_loopback(site: WebFixture) -> None:
    server = build(FetchPolicy(allow_private=True))
    assert ok_text(fetch(server, f"{site.origin}/text")).endswith("plain words")


# --- the exploit suite -------------------------------------------------------------------


async def _hostile_resolver(host: str, port: int) -> Sequence[str]:
    table = {
        "evil.test": ["127.0.0.1"],
        "metadata.google.internal": ["169.254.169.254"],
        "rebind.test": ["93.184.216.34", "127.0.0.1"],
        "v6.test": ["2606:4700::1111", "::1"],
        "corp.test": ["10.1.2.3"],
    }
    if host in table:
        return table[host]
    from mirascope.mcp.servers.fetch import resolve_with_getaddrinfo

    return await resolve_with_getaddrinfo(host, port)


EXPLOITS = [
    ("file:///etc/passwd", "only http and https"),
    ("ftp://example.com/file", "only http and https"),
    ("gopher://127.0.0.1:25/", "only http and https"),
    ("//127.0.0.1/", "only http and https"),
    ("http://127.0.0.1:{port}/secret", "127.0.0.0/8"),
    ("HTTP://127.0.0.1:{port}/secret", "127.0.0.0/8"),
    ("http://localhost:{port}/secret", "non-public"),
    ("http://localhost.:{port}/secret", "non-public"),
    ("http://[::1]:{port}/secret", "::/96"),
    ("http://[::ffff:127.0.0.1]:{port}/secret", "::ffff:0:0/96"),
    ("http://[::ffff:7f00:1]:{port}/secret", "::ffff:0:0/96"),
    ("http://[::127.0.0.1]:{port}/secret", "::/96"),
    ("http://[64:ff9b::7f00:1]/", "64:ff9b::/96"),
    ("http://[2002:7f00:1::]/", "2002::/16"),
    ("http://2130706433:{port}/secret", "127.0.0.0/8"),
    ("http://0x7f000001:{port}/secret", "127.0.0.0/8"),
    ("http://0177.0.0.1:{port}/secret", "127.0.0.0/8"),
    ("http://0x7f.1:{port}/secret", "127.0.0.0/8"),
    ("http://127.1:{port}/secret", "127.0.0.0/8"),
    ("http://0.0.0.0:{port}/secret", "0.0.0.0/8"),
    ("http://0:{port}/secret", "0.0.0.0/8"),
    ("http://[::]:{port}/secret", "::/96"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.0.0/16"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "fc00::/7"),
    ("http://metadata.google.internal/computeMetadata/v1/", "169.254.0.0/16"),
    ("http://100.64.0.1/", "100.64.0.0/10"),
    ("http://10.0.0.1/", "10.0.0.0/8"),
    ("http://172.16.0.1/", "172.16.0.0/12"),
    ("http://192.168.1.1/", "192.168.0.0/16"),
    ("http://[fd00::1]/", "fc00::/7"),
    ("http://[fe80::1]/", "fe80::/10"),
    ("http://224.0.0.1/", "224.0.0.0/4"),
    ("http://240.0.0.1/", "240.0.0.0/4"),
    ("http://255.255.255.255/", "240.0.0.0/4"),
    ("http://evil.test:{port}/secret", "127.0.0.0/8"),
    ("http://rebind.test:{port}/secret", "127.0.0.0/8"),
    ("http://v6.test:{port}/secret", "::/96"),
    ("http://corp.test/", "10.0.0.0/8"),
    ("http://example.com@127.0.0.1:{port}/secret", "user name or password"),
    ("http://user:pass@example.com/", "user name or password"),
    ("http://127.0.0.1:{port}\\@example.com/", "backslashes"),
    (" http://127.0.0.1:{port}/secret", "whitespace"),
    ("http://127.0.0.1:{port}/se cret", "whitespace"),
    ("http://127.0.0.1:{port}/\x7f", "control characters"),
    ("http://127.0.0.1:{port}/%0d%0aHost:%20evil", "127.0.0.0/8"),
    ("http://127.0.0.1:99999/", "port"),
]


@pytest.mark.parametrize(("url", "reason"), EXPLOITS, ids=[url for url, _ in EXPLOITS])
def test_fetch_refuses_non_public_targets(internal: WebFixture, url: str, reason: str) -> None:
    server = build(FetchPolicy(resolver=_hostile_resolver))
    message = refusal(fetch(server, url.format(port=internal.port)))
    assert reason in message
    assert "Refused" in message
    assert internal.seen == []


REDIRECT_EXPLOITS = [
    "http://127.0.0.1:{internal}/secret",
    "http://localhost:{site}/private",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://2852039166/latest/meta-data/",
    "http://evil.test:{internal}/secret",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("target", REDIRECT_EXPLOITS)
def test_fetch_refuses_a_redirect_from_an_allowed_host_to_a_private_one(
    site: WebFixture, internal: WebFixture, target: str
) -> None:
    site.routes["/go"] = redirect(target.format(internal=internal.port, site=site.port))
    server = build(FetchPolicy(exempt_origins=frozenset({site.origin}), resolver=_hostile_resolver))
    message = refusal(fetch(server, f"{site.origin}/go"))
    assert "Refused" in message
    assert "/go" in site.paths
    assert internal.seen == []
    assert "/private" not in site.paths


def test_address_refusal_accepts_public_unicast_addresses() -> None:
    assert address_refusal("93.184.216.34") is None
    assert address_refusal("2606:4700:4700::1111") is None
    assert address_refusal("8.8.8.8") is None
    assert address_refusal("not an ip") is not None


def test_html_to_markdown_drops_script_links_and_keeps_ordered_lists() -> None:
    markdown = html_to_markdown('<ol><li>a</li><li>b</li></ol><a href="javascript:x()">go</a>', "http://h/")
    assert "1. a\n2. b" in markdown
    assert "javascript" not in markdown


def test_main_answers_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--allow-private" in out
    assert "--ignore-robots-txt" in out
    assert "--transport" in out


# --- the installed console script, over stdio and streamable HTTP -----------------------

SCRIPT = str(Path(sys.executable).with_name("mirascope-mcp-fetch"))


async def _call_stdio(arguments: list[str], url: str) -> CallToolResult:
    async with Client(StdioServerParameters(command=SCRIPT, args=arguments)) as client:
        return await client.call_tool("fetch", {"url": url})


def test_console_script_over_stdio_fetches_with_allow_private_and_refuses_without(site: WebFixture) -> None:
    allowed = anyio.run(_call_stdio, ["--allow-private"], f"{site.origin}/text")
    assert ok_text(allowed).endswith("plain words")
    refused = anyio.run(_call_stdio, [], f"{site.origin}/text")
    assert "127.0.0.0/8" in refusal(refused)
    assert site.paths.count("/text") == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_console_script_over_streamable_http_refuses_metadata(site: WebFixture) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [SCRIPT, "--transport", "http", "--port", str(port), "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Readiness, not timing: wait until the port accepts a connection (or the process died).
        while process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                threading.Event().wait(0.05)
        assert process.poll() is None

        async def go() -> CallToolResult:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                return await client.call_tool("fetch", {"url": "http://169.254.169.254/latest/meta-data/"})

        assert "169.254.0.0/16" in refusal(anyio.run(go))
    finally:
        process.terminate()
        process.wait()


# --- https: pinned to the address, verified for the name ---------------------------------


def _certificate(name: str, directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for `name`, as PEM files (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"{name}.pem", directory / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def _tls_site(certificate: tuple[Path, Path], server_names: list[str | None]) -> WebFixture:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))

    def record(_socket: ssl.SSLObject, server_name: str | None, _context: ssl.SSLContext) -> None:
        server_names.append(server_name)

    context.sni_callback = record
    return WebFixture({"/text": page("secure words", "text/plain")}, tls=context)


def _https_server(port: int, trusted: Path) -> MCPServer[Any]:
    async def resolver(host: str, port: int) -> Sequence[str]:
        return ["127.0.0.1"]

    return build(
        FetchPolicy(
            exempt_origins=frozenset({f"https://secure.test:{port}"}),
            resolver=resolver,
            respect_robots_txt=False,
            tls_context=ssl.create_default_context(cafile=str(trusted)),
        )
    )


def test_https_connects_to_the_vetted_address_and_verifies_the_name(tmp_path: Path) -> None:
    certificate = _certificate("secure.test", tmp_path)
    server_names: list[str | None] = []
    with _tls_site(certificate, server_names) as site:
        text = ok_text(fetch(_https_server(site.port, certificate[0]), f"https://secure.test:{site.port}/text"))
        assert text.endswith("secure words")
        assert server_names == ["secure.test"]
        assert site.seen[-1].headers["host"] == f"secure.test:{site.port}"


def test_https_refuses_a_certificate_for_another_name(tmp_path: Path) -> None:
    certificate = _certificate("other.test", tmp_path)
    with _tls_site(certificate, []) as site:
        message = refusal(fetch(_https_server(site.port, certificate[0]), f"https://secure.test:{site.port}/text"))
        assert "Could not fetch" in message
        assert site.seen == []
