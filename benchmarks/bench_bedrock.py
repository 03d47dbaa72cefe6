"""Bedrock: a Converse call and a ConverseStream through `bedrock:`, beside raw httpx and boto3.

The same local server (`server.py`, in its own process) answers all three, in the same run:

- the floor: raw `httpx` posting a request signed once (SigV4, by hand: the least code that
  talks to Bedrock), then `json.loads`; for streams, reading the binary event stream with
  `struct` and `zlib.crc32` and `json.loads`-ing each event;
- ours: `llm.model("bedrock:...").call(...)` and `.stream(...)`, signing every request;
- boto3's `bedrock-runtime` client (`converse`, `converse_stream`), in a virtualenv of its own
  (`.cache/bench-boto3`, made with uv on first use: the workspace never installs boto3).

Call overhead is per call, stream overhead per event (200 text deltas a stream), each as a ratio
to the floor (targets: 1.10x a call, 1.15x an event). Import time: `import` of the provider
(with `mirascope.llm`) against `import boto3` and against making boto3's client, each in a fresh
interpreter.

    python benchmarks/bench_bedrock.py [--rounds 7] [--calls 200] [--streams 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import sidecar
from bench_call import local_server  # the same server process every call benchmark uses

HERE = Path(__file__).parent
ROOT = HERE.parent
VENV = ROOT / ".cache" / "bench-boto3"
BOTO3 = "boto3==1.44.8"

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Recommend a fantasy book"}]}]
KEY_ID, SECRET, REGION = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1"


def _per(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def _events(body: Iterator[bytes]) -> Iterator[object]:
    """The floor's event-stream reader: prelude, CRCs, JSON payload; nothing else."""
    buffer = b""
    for piece in body:
        buffer += piece
        while len(buffer) >= 12:
            total, headers = struct.unpack_from(">II", buffer)
            if len(buffer) < total:
                break
            message = buffer[:total]
            buffer = buffer[total:]
            if zlib.crc32(message[:-4]) != struct.unpack_from(">I", message, total - 4)[0]:
                raise ValueError("bad CRC")
            yield json.loads(message[12 + headers : total - 4])


def ours_and_floor(url: str, rounds: int, calls: int, streams: int) -> dict[str, float]:
    import httpx
    from mirascope import llm
    from mirascope.providers.bedrock.credentials import Credentials
    from mirascope.providers.bedrock.sigv4 import sign

    client = llm.client("bedrock", base_url=url, region=REGION, access_key_id=KEY_ID, secret_access_key=SECRET)
    model = llm.model(f"bedrock:{MODEL}", client=client)
    http = httpx.Client()
    body = json.dumps({"messages": MESSAGES}).encode()
    quoted = MODEL.replace(":", "%3A")
    credentials = Credentials(access_key_id=KEY_ID, secret_access_key=SECRET)
    signed: dict[str, dict[str, str]] = {}
    for action in ("converse", "converse-stream"):
        target = f"{url}/model/{quoted}/{action}"
        headers = {"content-type": "application/json"}
        headers |= sign(
            method="POST", url=target, headers=headers, payload=body, credentials=credentials, region=REGION
        )
        signed[action] = headers

    def floor_call() -> object:
        reply = http.post(f"{url}/model/{quoted}/converse", content=body, headers=signed["converse"])
        return json.loads(reply.content)

    def signed_floor_call() -> object:  # the floor, signing each request as a real client must
        target = f"{url}/model/{quoted}/converse"
        headers = {"content-type": "application/json"}
        headers |= sign(
            method="POST", url=target, headers=headers, payload=body, credentials=credentials, region=REGION
        )
        return json.loads(http.post(target, content=body, headers=headers).content)

    def our_call() -> object:
        return model.call("Recommend a fantasy book")

    def floor_stream() -> object:
        target = f"{url}/model/{quoted}/converse-stream"
        with http.stream("POST", target, content=body, headers=signed["converse-stream"]) as reply:
            return sum(1 for _ in _events(reply.iter_bytes()))

    def our_stream() -> object:
        return sum(1 for _ in model.stream("Recommend a fantasy book"))

    for fn in (floor_call, signed_floor_call, our_call, floor_stream, our_stream):
        _per(fn, 5)  # warm up
    names = ("floor call", "signed floor call", "ours call", "floor stream", "ours stream")
    marks: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        marks["floor call"].append(_per(floor_call, calls))
        marks["signed floor call"].append(_per(signed_floor_call, calls))
        marks["ours call"].append(_per(our_call, calls))
        marks["floor stream"].append(_per(floor_stream, streams))
        marks["ours stream"].append(_per(our_stream, streams))
    return {name: statistics.median(values) for name, values in marks.items()}


def boto3_inner(url: str, rounds: int, calls: int, streams: int) -> None:
    """Run inside the boto3 virtualenv: print boto3's medians as JSON."""
    import boto3  # pyright: ignore[reportMissingImports]  # only in the comparison's own venv

    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )

    def call() -> object:
        return client.converse(modelId=MODEL, messages=MESSAGES)

    def stream() -> object:
        reply = client.converse_stream(modelId=MODEL, messages=MESSAGES)
        return sum(1 for _ in reply["stream"])

    _per(call, 5)
    _per(stream, 5)
    calls_at = [_per(call, calls) for _ in range(rounds)]
    streams_at = [_per(stream, streams) for _ in range(rounds)]
    print(json.dumps({"boto3 call": statistics.median(calls_at), "boto3 stream": statistics.median(streams_at)}))


def _venv_python() -> Path | None:
    """The boto3 virtualenv's Python (with our packages, editable), made on first use; `None` if it cannot be."""
    return sidecar.prepared(VENV, [BOTO3], ("mirascope-core", "mirascope-providers-bedrock"), "boto3 comparison")


def _import_seconds(python: Path | str, statement: str, runs: int = 9) -> float:
    """Median wall time of `python -c statement` less that of `python -c pass`."""

    def timed(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([str(python), "-c", code], check=True)
        return time.perf_counter() - start

    base = statistics.median(timed("pass") for _ in range(runs))
    return statistics.median(timed(statement) for _ in range(runs)) - base


def main() -> None:
    parser = argparse.ArgumentParser(description="Bedrock beside raw httpx and boto3, as ratios.")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--inner-boto3", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner_boto3:
        boto3_inner(args.inner_boto3, args.rounds, args.calls, args.streams)
        return
    python = _venv_python()
    with local_server() as url:
        marks = ours_and_floor(url, args.rounds, args.calls, args.streams)
        if python is not None:
            inner = [str(python), __file__, "--inner-boto3", url]
            inner += ["--rounds", str(args.rounds), "--calls", str(args.calls), "--streams", str(args.streams)]
            done = subprocess.run(inner, capture_output=True, text=True, check=False)
            if done.returncode == 0:
                marks |= json.loads(done.stdout.strip().splitlines()[-1])
            else:
                print(f"boto3 comparison failed: {done.stderr.strip()[-300:]}")
    events = 200
    print("Bedrock (Converse) beside raw httpx and boto3, same local server, same run (median of rounds)")
    floor_call, floor_stream = marks["floor call"], marks["floor stream"] / events
    print(f"  call    raw httpx {floor_call * 1e6:7.1f} us")
    ours_call, signed_call = marks["ours call"], marks["signed floor call"]
    print(f"          bedrock:  {ours_call * 1e6:7.1f} us   {ours_call / floor_call:.2f}x (target 1.10x)")
    signed_ratio = ours_call / signed_call
    print(f"          (raw httpx signing each request: {signed_call * 1e6:.1f} us; bedrock: {signed_ratio:.2f}x)")
    if "boto3 call" in marks:
        print(f"          boto3     {marks['boto3 call'] * 1e6:7.1f} us   {marks['boto3 call'] / floor_call:.2f}x")
    print(f"  event   raw httpx {floor_stream * 1e6:7.2f} us")
    ours_event = marks["ours stream"] / events
    print(f"          bedrock:  {ours_event * 1e6:7.2f} us   {ours_event / floor_stream:.2f}x (target 1.15x)")
    if "boto3 stream" in marks:
        boto_event = marks["boto3 stream"] / events
        print(f"          boto3     {boto_event * 1e6:7.2f} us   {boto_event / floor_stream:.2f}x")
    ours_import = _import_seconds(sys.executable, "import mirascope.llm, mirascope.providers.bedrock")
    print(f"  import  mirascope.llm + providers.bedrock   {ours_import * 1e3:6.1f} ms")
    if python is not None:
        boto_import = _import_seconds(python, "import boto3")
        client = (
            "import boto3; boto3.client('bedrock-runtime', region_name='us-east-1', "
            "aws_access_key_id='a', aws_secret_access_key='b')"
        )
        boto_client = _import_seconds(python, client)
        print(f"          import boto3                         {boto_import * 1e3:6.1f} ms")
        print(f"          import boto3 + its bedrock client    {boto_client * 1e3:6.1f} ms")


if __name__ == "__main__":
    main()
