"""AWS Signature Version 4: AWS's published examples, and Bedrock requests checked independently."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from attrs import frozen
from mirascope.providers.bedrock import sigv4
from mirascope.providers.bedrock.credentials import Credentials

# The credentials, scope and moment of AWS's Signature Version 4 test suite (and of its 2012
# signing-key example): AWS's own example keys, not real ones.
ACCESS_KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AMZ_DATE = "20150830T123600Z"
SCOPE = "20150830/us-east-1/service/aws4_request"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # SHA-256 of no bytes
STS_TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRq"
    "TflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75Y"
    "U9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KS"
    "YvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
)


@frozen
class Example:
    """One case of the suite: the request as written, and what its signing must produce."""

    name: str
    request_line: str  # `METHOD target`, the target as the request line writes it
    headers: tuple[tuple[str, str], ...]  # besides `host` and `x-amz-date`, in the order sent
    body: bytes
    canonical_request: tuple[str, ...]  # its lines
    string_to_sign_hash: str  # the last line of the string to sign
    signature: str


def _vanilla(method: str, target: str, uri: str, query: str, sts: str, signature: str, name: str) -> Example:
    lines = (method, uri, query, "host:example.amazonaws.com", f"x-amz-date:{AMZ_DATE}", "", "host;x-amz-date", EMPTY)
    return Example(name, f"{method} {target}", (), b"", lines, sts, signature)


def _with_headers(
    method: str, headers: tuple[tuple[str, str], ...], canonical: tuple[str, ...], names: str
) -> tuple[str, tuple[tuple[str, str], ...], bytes, tuple[str, ...]]:
    lines = (method, "/", "", "host:example.amazonaws.com", *canonical, f"x-amz-date:{AMZ_DATE}", "", names, EMPTY)
    return (f"{method} /", headers, b"", lines)


# AWS's Signature Version 4 test suite (Apache-2.0, "Copyright 2019 Amazon.com, Inc."), as published in
# boto/botocore tests/unit/auth/aws4_testsuite/<case>/<case>.{req,creq,sts,authz} (normalize-path/ and
# post-sts-token/ cases in those subfolders) and in awslabs/aws-c-auth tests/aws-signing-test-suite/v4/.
# Every case: AKIDEXAMPLE, region us-east-1, service "service", 20150830T123600Z, host
# example.amazonaws.com; the payload hash is the body's SHA-256.
EXAMPLES = [
    _vanilla(
        "GET",
        "/",
        "/",
        "",
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "get-vanilla",
    ),
    _vanilla(
        "POST",
        "/",
        "/",
        "",
        "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        "post-vanilla",
    ),
    _vanilla(
        "GET",
        "/?Param2=value2&Param1=value1",
        "/",
        "Param1=value1&Param2=value2",
        "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        "get-vanilla-query-order-key-case",
    ),
    _vanilla(
        "GET",
        "/?Param1=value2&Param1=Value1",
        "/",
        "Param1=Value1&Param1=value2",
        "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
        "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1",
        "get-vanilla-query-order-key",
    ),
    _vanilla(
        "GET",
        "/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
        "/",
        "%E1%88%B4=Value1&Param=Value2&Param-3=Value3",
        "868294f5c38bd141c4972a373a76654f1418a8e4fc18b2e7903ae45e8ae0ec71",
        "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
        "get-vanilla-query-order-encoded",
    ),
    _vanilla(
        "GET",
        "/?\u1234=bar",
        "/",
        "%E1%88%B4=bar",
        "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        "get-vanilla-utf8-query",
    ),
    _vanilla(
        "GET",
        "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        "/",
        "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
        "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
        "get-vanilla-query-unreserved",
    ),
    _vanilla(
        "POST",
        "/?Param1=value1",
        "/",
        "Param1=value1",
        "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
        "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
        "post-vanilla-query",
    ),
    _vanilla(
        "GET",
        "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        "",
        "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
        "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        "get-unreserved",
    ),
    _vanilla(
        "GET",
        "/\u1234",
        "/%E1%88%B4",
        "",
        "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
        "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
        "get-utf8",
    ),
    _vanilla(
        "GET",
        "/example space/",
        "/example%20space/",
        "",
        "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
        "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
        "normalize-path/get-space",
    ),
    _vanilla(
        "GET",
        "//example//",
        "/example/",
        "",
        "cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015",
        "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
        "normalize-path/get-slashes",
    ),
    _vanilla(
        "GET",
        "/example1/example2/../..",
        "/",
        "",
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "normalize-path/get-relative-relative",
    ),
    _vanilla(
        "GET",
        "/./example",
        "/example",
        "",
        "214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c3305180cf702",
        "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
        "normalize-path/get-slash-pointless-dot",
    ),
    _vanilla(
        "GET",
        "/example/$delete",
        "/example/%24delete",
        "",
        "4053e45b5cef7cec5e17f736b1c12b3faf0388fd4c0bd24326386f132039ce5c",
        "a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27",
        "normalize-path/get-special-character",
    ),
    # The token added after signing: not signed, so the signature is post-vanilla's.
    _vanilla(
        "POST",
        "/",
        "/",
        "",
        "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        "post-sts-token/post-sts-header-after",
    ),
    Example(
        "post-header-key-sort",
        *_with_headers("POST", (("My-Header1", "value1"),), ("my-header1:value1",), "host;my-header1;x-amz-date"),
        "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
        "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
    ),
    Example(
        "post-header-value-case",
        *_with_headers("POST", (("My-Header1", "VALUE1"),), ("my-header1:VALUE1",), "host;my-header1;x-amz-date"),
        "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
        "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
    ),
    Example(
        "get-header-value-trim",
        *_with_headers(
            "GET",
            (("My-Header1", " value1"), ("My-Header2", ' "a   b   c"')),
            ("my-header1:value1", 'my-header2:"a b c"'),
            "host;my-header1;my-header2;x-amz-date",
        ),
        "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    ),
    Example(
        "get-header-key-duplicate",
        *_with_headers(
            "GET",
            (("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")),
            ("my-header1:value2,value2,value1",),
            "host;my-header1;x-amz-date",
        ),
        "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
        "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    ),
    Example(
        "get-header-value-order",
        *_with_headers(
            "GET",
            tuple(("My-Header1", value) for value in ("value4", "value1", "value3", "value2")),
            ("my-header1:value4,value1,value3,value2",),
            "host;my-header1;x-amz-date",
        ),
        "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
        "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
    ),
    Example(
        "get-header-value-multiline",
        *_with_headers(
            "GET",
            (("My-Header1", "value1\n  value2\n     value3"),),
            ("my-header1:value1 value2 value3",),
            "host;my-header1;x-amz-date",
        ),
        "e99419459a677bc11de234014be3c4e72c1ea5b454ceb58b613061f5d7a162e8",
        "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd",
    ),
    Example(
        "post-x-www-form-urlencoded",
        "POST /",
        (("Content-Type", "application/x-www-form-urlencoded"),),
        b"Param1=value1",
        (
            "POST",
            "/",
            "",
            "content-type:application/x-www-form-urlencoded",
            "host:example.amazonaws.com",
            f"x-amz-date:{AMZ_DATE}",
            "",
            "content-type;host;x-amz-date",
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
        ),
        "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
        "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    ),
    Example(
        "post-sts-token/post-sts-header-before",
        "POST /",
        (("X-Amz-Security-Token", STS_TOKEN),),
        b"",
        (
            "POST",
            "/",
            "",
            "host:example.amazonaws.com",
            f"x-amz-date:{AMZ_DATE}",
            f"x-amz-security-token:{STS_TOKEN}",
            "",
            "host;x-amz-date;x-amz-security-token",
            EMPTY,
        ),
        "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
        "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
    ),
]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.name)
def test_aws_published_examples_step_by_step(example: Example) -> None:
    method, target = example.request_line.split(" ", 1)
    url = f"https://example.amazonaws.com{target}"
    headers = (("Host", "example.amazonaws.com"), ("X-Amz-Date", AMZ_DATE), *example.headers)
    payload_hash = hashlib.sha256(example.body).hexdigest()

    canonical = sigv4.canonical_request(method=method, url=url, headers=headers, payload_hash=payload_hash)
    assert canonical.split("\n") == list(example.canonical_request)

    to_sign = sigv4.string_to_sign(amz_date=AMZ_DATE, scope=SCOPE, canonical_request=canonical)
    assert to_sign == f"AWS4-HMAC-SHA256\n{AMZ_DATE}\n{SCOPE}\n{example.string_to_sign_hash}"

    key = sigv4.signing_key(SECRET, "20150830", "us-east-1", "service")
    assert sigv4.signature(key=key, string_to_sign=to_sign) == example.signature

    authorization = sigv4.authorization(
        method=method,
        url=url,
        headers=headers,
        payload_hash=payload_hash,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET,
        region="us-east-1",
        service="service",
        amz_date=AMZ_DATE,
    )
    signed_names = example.canonical_request[-2]
    assert authorization == (
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/{SCOPE}, SignedHeaders={signed_names}, "
        f"Signature={example.signature}"
    )


def test_the_signing_key_is_the_one_aws_documents() -> None:
    # AWS's "Examples of how to derive a signing key for Signature Version 4"
    # (docs.aws.amazon.com/general/latest/gr/signature-v4-examples.html): the same secret, 20120215, iam.
    key = sigv4.signing_key(SECRET, "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_a_session_token_example_signs_through_sign() -> None:
    # get-vanilla-with-session-token (same suite): `sign` adds and signs x-amz-security-token.
    token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
    added = sigv4.sign(
        method="GET",
        url="https://example.amazonaws.com/",
        headers={},
        payload=b"",
        credentials=Credentials(ACCESS_KEY_ID, SECRET, token),
        region="us-east-1",
        service="service",
        when=datetime(2015, 8, 30, 12, 36, tzinfo=UTC),
    )
    assert added == {
        "x-amz-date": AMZ_DATE,
        "x-amz-security-token": token,
        "authorization": f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/{SCOPE}, "
        "SignedHeaders=host;x-amz-date;x-amz-security-token, "
        "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
    }


def test_post_x_www_form_urlencoded_signs_through_sign() -> None:
    added = sigv4.sign(
        method="POST",
        url="https://example.amazonaws.com/",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "not signed"},
        payload=b"Param1=value1",
        credentials=Credentials(ACCESS_KEY_ID, SECRET),
        region="us-east-1",
        service="service",
        when=datetime(2015, 8, 30, 12, 36, tzinfo=UTC),
    )
    assert "x-amz-security-token" not in added
    assert added["authorization"].endswith(
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
    )


# --- A Bedrock request, verified independently -----------------------------------------------------

MODEL_URL = (
    "https://bedrock-runtime.us-west-2.amazonaws.com/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse"
)
BODY = b'{"messages":[{"role":"user","content":[{"text":"Hello"}]}],"inferenceConfig":{"maxTokens":64}}'
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLEsessionTOKENvalue/with+slashes=="
WHEN = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def _recompute(canonical_lines: list[str], secret: str, amz_date: str, region: str, service: str) -> str:
    """The signature, computed here from the spec's rules alone (no code of the module under test)."""
    canonical = "\n".join(canonical_lines)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(("AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()))
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _signed(
    *,
    url: str = MODEL_URL,
    headers: dict[str, str] | None = None,
    payload: bytes = b"",
    credentials: Credentials | None = None,
    region: str = "us-west-2",
    when: datetime | None = WHEN,
) -> dict[str, str]:
    return sigv4.sign(
        method="POST",
        url=url,
        headers=headers or {},
        payload=payload,
        credentials=credentials or Credentials("AKIAIOSFODNN7EXAMPLE", SECRET),
        region=region,
        when=when,
    )


def _parse_authorization(value: str) -> dict[str, str]:
    algorithm, _, rest = value.partition(" ")
    assert algorithm == "AWS4-HMAC-SHA256"
    return dict(part.strip().split("=", 1) for part in rest.split(","))


def test_a_signed_bedrock_request_verifies_from_its_canonical_request() -> None:
    credentials = Credentials("AKIAIOSFODNN7EXAMPLE", SECRET, SESSION_TOKEN)
    added = sigv4.sign(
        method="POST",
        url=MODEL_URL,
        headers={"content-type": "application/json", "user-agent": "mirascope/2", "accept": "application/json"},
        payload=BODY,
        credentials=credentials,
        region="us-west-2",
        when=WHEN,
    )
    assert added["x-amz-date"] == "20260314T092653Z"
    assert added["x-amz-security-token"] == SESSION_TOKEN
    fields = _parse_authorization(added["authorization"])
    assert fields["Credential"] == "AKIAIOSFODNN7EXAMPLE/20260314/us-west-2/bedrock/aws4_request"
    assert fields["SignedHeaders"] == "content-type;host;x-amz-date;x-amz-security-token"
    # The canonical URI: the path as sent, percent-encoded once more. botocore does the same for
    # bedrock-runtime (boto/botocore botocore/serialize.py `_render_uri_template` sends the model id
    # percent-encoded, `v1:0` as `v1%3A0`; botocore/auth.py `SigV4Auth._normalize_url_path` signs
    # `quote(normalize_url_path(path), safe='/~')`, which turns that `%` into `%25`).
    canonical = [
        "POST",
        "/model/us.anthropic.claude-sonnet-4-20250514-v1%253A0/converse",
        "",
        "content-type:application/json",
        "host:bedrock-runtime.us-west-2.amazonaws.com",
        "x-amz-date:20260314T092653Z",
        f"x-amz-security-token:{SESSION_TOKEN}",
        "",
        "content-type;host;x-amz-date;x-amz-security-token",
        hashlib.sha256(BODY).hexdigest(),
    ]
    assert fields["Signature"] == _recompute(canonical, SECRET, "20260314T092653Z", "us-west-2", "bedrock")


def test_any_change_to_a_signed_part_changes_the_signature() -> None:
    def signature(**changes: Any) -> str:
        arguments: dict[str, Any] = {"headers": {"content-type": "application/json"}, "payload": BODY, **changes}
        return _parse_authorization(_signed(**arguments)["authorization"])["Signature"]

    base = signature()
    assert signature(headers={"content-type": "application/json", "user-agent": "other"}) == base
    assert signature(payload=BODY + b" ") != base
    assert signature(url=MODEL_URL.replace("converse", "converse-stream")) != base
    assert signature(headers={"content-type": "text/plain"}) != base
    assert signature(region="us-east-1") != base
    assert signature(when=WHEN + timedelta(seconds=1)) != base
    assert signature(credentials=Credentials("AKIAIOSFODNN7EXAMPLE", SECRET + "x")) != base


@pytest.mark.parametrize(
    ("url", "host", "canonical_uri"),
    [
        ("https://bedrock-runtime.aws:443/model/m/converse", "bedrock-runtime.aws", "/model/m/converse"),
        ("http://127.0.0.1:8080/model/m/converse", "127.0.0.1:8080", "/model/m/converse"),
        ("http://localhost:80/model/m/converse", "localhost", "/model/m/converse"),
        ("http://[::1]:9000/proxy/model/m/converse", "[::1]:9000", "/proxy/model/m/converse"),
        ("https://HOST.example.com/a b/\u1234/x%3Ay", "host.example.com", "/a%2520b/%25E1%2588%25B4/x%253Ay"),
    ],
)
def test_sign_signs_the_host_and_path_httpx_sends(url: str, host: str, canonical_uri: str) -> None:
    added = _signed(url=url, payload=b"{}", region="us-east-1")
    # What httpx puts on the wire for that URL is what was signed.
    sent = httpx.Request("POST", url, headers=added, content=b"{}")
    assert sent.headers["host"] == host
    raw_path = sent.url.raw_path.decode("ascii")
    assert sigv4.canonical_uri(raw_path) == canonical_uri
    canonical = [
        "POST",
        canonical_uri,
        "",
        f"host:{host}",
        "x-amz-date:20260314T092653Z",
        "",
        "host;x-amz-date",
        hashlib.sha256(b"{}").hexdigest(),
    ]
    expected = _recompute(canonical, SECRET, "20260314T092653Z", "us-east-1", "bedrock")
    assert _parse_authorization(sent.headers["authorization"])["Signature"] == expected


def test_the_time_is_signed_in_utc_and_defaults_to_now() -> None:
    def amz_date(when: datetime | None) -> str:
        return _signed(when=when)["x-amz-date"]

    assert amz_date(datetime(2026, 3, 14, 11, 26, 53, tzinfo=timezone(timedelta(hours=2)))) == "20260314T092653Z"
    assert amz_date(datetime(2026, 3, 14, 9, 26, 53)) == "20260314T092653Z"  # naive: taken as UTC
    before = datetime.now(UTC).replace(microsecond=0)
    now = datetime.strptime(amz_date(None), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    after = datetime.now(UTC)
    assert before <= now <= after


def test_the_signing_key_is_derived_once_per_day_region_and_service() -> None:
    sigv4.signing_key.cache_clear()
    for _ in range(3):
        _signed(region="us-west-2")
    _signed(region="eu-west-1")
    info = sigv4.signing_key.cache_info()
    assert (info.misses, info.hits) == (2, 2)


def test_renewing_credentials_are_read_for_each_signature() -> None:
    issued = iter(
        [Credentials("AKIAFIRST0000000AAAA", SECRET, "token-one-0000"), Credentials("AKIASECOND000000BBBB", SECRET)]
    )
    renewing = Credentials("AKIAFIRST0000000AAAA", SECRET, "token-one-0000", refresh=lambda: next(issued))
    first = _signed(credentials=renewing)
    second = _signed(credentials=renewing)
    assert first["x-amz-security-token"] == "token-one-0000"
    assert "Credential=AKIAFIRST0000000AAAA/" in first["authorization"]
    assert "x-amz-security-token" not in second
    assert "Credential=AKIASECOND000000BBBB/" in second["authorization"]
