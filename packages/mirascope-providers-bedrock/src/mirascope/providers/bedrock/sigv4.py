"""AWS Signature Version 4, written with the standard library (`hmac`, `hashlib`, `urllib`).

`sign` gives the headers one Bedrock request needs. The steps are public too (`canonical_request`,
`string_to_sign`, `signing_key`, `signature`, `authorization`) so that any request, not only a
Bedrock one, can be signed and checked against AWS's published examples step by step.

The canonical URI follows the rules for every service but S3, as botocore applies them: dot
segments and empty segments are removed, then the path is percent-encoded once more. A path on the
wire is already percent-encoded, so a model id sent as `.../v1%3A0/converse` is signed as
`.../v1%253A0/converse`; Bedrock's servers expect exactly that.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, quote, unquote, urlsplit

if TYPE_CHECKING:
    from .credentials import Credentials

__all__ = [
    "ALGORITHM",
    "EMPTY_PAYLOAD_HASH",
    "authorization",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "credential_scope",
    "sign",
    "signature",
    "signed_headers",
    "signing_key",
    "string_to_sign",
]

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_PAYLOAD_HASH = hashlib.sha256(b"").hexdigest()
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What a URL path may hold literally, as httpx sends it (RFC 3986 pchar and `/`, plus `%`, which
# starts an escape already made): everything else (spaces, non-ASCII, quotes...) goes percent-encoded.
_PATH_ON_THE_WIRE = "/!$&'()*+,;=:@%"


def canonical_uri(path: str) -> str:
    """The canonical URI of a path as sent: dot and empty segments removed, then encoded (again).

    Letters, digits, `-._~` and `/` stay; everything else is percent-encoded, `%` included, so an
    escape in the path (`%3A`) is signed as `%253A`. An empty path is `/`.
    """
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    if not segments:
        return "/"
    normalized = "/" + "/".join(segments) + ("/" if path.endswith("/") else "")
    return quote(normalized, safe="/~")


def canonical_query(query: str) -> str:
    """The canonical query string: each name and value encoded once, pairs sorted by name then value."""
    pairs: list[tuple[str, str]] = []
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        # Decoded first, so a query written raw (`ሴ=bar`) and one already encoded
        # (`%E1%88%B4=bar`) sign alike, as the server decodes what it receives.
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _canonical_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lowercased names, sorted, to their values.

    Values are trimmed, inner runs of whitespace made one space, and the values of a repeated
    header joined by commas in the order given.
    """
    merged: dict[str, list[str]] = {}
    for name, value in headers:
        merged.setdefault(name.strip().lower(), []).append(" ".join(value.split()))
    return {name: ",".join(merged[name]) for name in sorted(merged)}


def signed_headers(headers: Iterable[tuple[str, str]]) -> str:
    """The `SignedHeaders` list: the names of the signed headers, lowercased, sorted, `;`-joined."""
    return ";".join(sorted({name.strip().lower() for name, _ in headers}))


def canonical_request(*, method: str, url: str, headers: Iterable[tuple[str, str]], payload_hash: str) -> str:
    """The canonical request of `method url`, signing exactly `headers` (`host` included).

    `headers` are (name, value) pairs, a name repeated for a repeated header; `payload_hash` is the
    hex SHA-256 of the body.
    """
    parts = urlsplit(url)
    canonical = _canonical_headers(headers)
    return "\n".join(
        (
            method.upper(),
            canonical_uri(parts.path),
            canonical_query(parts.query),
            "".join(f"{name}:{value}\n" for name, value in canonical.items()),
            ";".join(canonical),
            payload_hash,
        )
    )


def credential_scope(*, amz_date: str, region: str, service: str) -> str:
    """`date/region/service/aws4_request`."""
    return f"{amz_date[:8]}/{region}/{service}/aws4_request"


def string_to_sign(*, amz_date: str, scope: str, canonical_request: str) -> str:
    """The algorithm, the timestamp, the credential scope and the canonical request's hash, one a line."""
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


@lru_cache(maxsize=64)
def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """The key derived for one day, region and service (cached: it changes once a day).

    HMAC-SHA256 chained from `AWS4` + the secret over the date (`YYYYMMDD`), the region, the
    service and `aws4_request`.
    """
    key = f"AWS4{secret_access_key}".encode()
    for step in (date, region, service, "aws4_request"):
        key = hmac.new(key, step.encode(), hashlib.sha256).digest()
    return key


def signature(*, key: bytes, string_to_sign: str) -> str:
    """The hex HMAC-SHA256 of the string to sign under the derived key."""
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def authorization(
    *,
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    payload_hash: str,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    service: str,
    amz_date: str,
) -> str:
    """The `authorization` header value for a request, signing exactly `headers`.

    `headers` must hold `host` and `x-amz-date`, and `x-amz-security-token` with temporary
    credentials.
    """
    headers = tuple(headers)
    scope = credential_scope(amz_date=amz_date, region=region, service=service)
    request = canonical_request(method=method, url=url, headers=headers, payload_hash=payload_hash)
    key = signing_key(secret_access_key, amz_date[:8], region, service)
    signed = signature(
        key=key, string_to_sign=string_to_sign(amz_date=amz_date, scope=scope, canonical_request=request)
    )
    return (
        f"{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={signed_headers(headers)}, Signature={signed}"
    )


def sign(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload: bytes,
    credentials: Credentials,
    region: str,
    service: str = "bedrock",
    when: datetime | None = None,
) -> dict[str, str]:
    """The headers that make AWS accept a request.

    They are `x-amz-date`, `authorization`, and `x-amz-security-token` with temporary credentials.

    Signs `host` (from `url`, its port when not the scheme's default), `x-amz-date`,
    `content-type` when `headers` has one, and `x-amz-security-token`; the other headers may
    change on the way (a proxy's, `user-agent`) without breaking the signature. `url` is the one
    sent: its path is taken as httpx sends it (spaces and non-ASCII percent-encoded, escapes kept).
    `when` (UTC; a naive datetime is taken as UTC) defaults to now.
    """
    current = credentials.current()
    if when is None:
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    else:
        moment = when.astimezone(UTC) if when.tzinfo is not None else when
        amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    host, uri, query = _prepared(url)
    signed: list[tuple[str, str]] = [("host", host), ("x-amz-date", amz_date)]
    for name, value in headers.items():
        if name.lower() == "content-type":
            signed.append(("content-type", value))
    added = {"x-amz-date": amz_date}
    if current.session_token:
        signed.append(("x-amz-security-token", current.session_token))
        added["x-amz-security-token"] = current.session_token
    canonical = _canonical_headers(signed)
    names = ";".join(canonical)
    request = "\n".join(
        (
            method.upper(),
            uri,
            query,
            "".join(f"{name}:{value}\n" for name, value in canonical.items()),
            names,
            hashlib.sha256(payload).hexdigest(),
        )
    )
    scope = credential_scope(amz_date=amz_date, region=region, service=service)
    key = signing_key(current.secret_access_key, amz_date[:8], region, service)
    to_sign = string_to_sign(amz_date=amz_date, scope=scope, canonical_request=request)
    digest = signature(key=key, string_to_sign=to_sign)
    credential = f"Credential={current.access_key_id}/{scope}"
    added["authorization"] = f"{ALGORITHM} {credential}, SignedHeaders={names}, Signature={digest}"
    return added


@lru_cache(maxsize=256)
def _prepared(url: str) -> tuple[str, str, str]:
    """A URL's signed host, canonical URI and canonical query, computed once per URL (a model's never changes)."""
    parts = urlsplit(url)
    # The path as httpx sends it: spaces and non-ASCII percent-encoded, escapes kept.
    return _host(parts), canonical_uri(quote(parts.path, safe=_PATH_ON_THE_WIRE)), canonical_query(parts.query)


def _host(parts: SplitResult) -> str:
    """The `host` header httpx sends for a URL.

    The host lowercased (IDNA-encoded, IPv6 in brackets), with the port unless it is the
    scheme's default.
    """
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    elif not host.isascii():
        host = host.encode("idna").decode("ascii")
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{port}"
    return host
