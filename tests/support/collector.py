"""A real OTLP/HTTP collector on 127.0.0.1 that decodes the spans it receives, and can be slow on cue."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

HANG_GUARD = 60.0
"""Seconds a gated request waits for its gate before answering anyway: a guard against hanging."""


class Collector:
    """A real OTLP/HTTP collector on 127.0.0.1 that decodes what it receives.

    With `gate`, each export request is read, `arrived` is set, and the reply waits until the
    gate opens: a collector that is slow for as long as the test wants.
    """

    def __init__(self, *, status: int = 200, gate: threading.Event | None = None) -> None:
        self.spans: list[Any] = []
        self.requests = 0
        self.arrived = threading.Event()
        self.gate = gate
        self._lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with collector._lock:
                    collector.requests += 1
                collector.arrived.set()
                if collector.gate is not None:
                    collector.gate.wait(HANG_GUARD)
                if status == 200:
                    request = ExportTraceServiceRequest()
                    request.ParseFromString(body)
                    with collector._lock:
                        for resource_spans in request.resource_spans:
                            for scope_spans in resource_spans.scope_spans:
                                collector.spans.extend(scope_spans.spans)
                self.send_response(status)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1/traces"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def names(self) -> list[str]:
        return [span.name for span in self.spans]

    def close(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self._server.shutdown()
        self._server.server_close()
