"""Third parties add providers without touching core: in-process with `register`, or by entry point."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from mirascope import llm
from mirascope.llm.providers import (
    Decoded,
    HTTPRequest,
    ParamHandling,
    Request,
    StreamDecoder,
    check_params,
    register,
    unregister,
)
from mirascope.llm.providers.http import error_from_response

from tests.support.replay import ReplayServer


class EchoProvider:
    """A minimal provider speaking a made-up protocol: POST {"prompt"} → {"text"}."""

    name = "acme"
    family = "acme"
    api_key_env = "ACME_API_KEY"
    api_key_env_fallbacks = ()
    api_key_required = False
    # The made-up protocol has no sampling settings: every call parameter is refused, never dropped.
    parameters: Mapping[str, ParamHandling] = MappingProxyType(
        {key: ParamHandling.refuse("the echo protocol takes no parameters") for key in llm.CallParams.__annotations__}
    )

    def __init__(self, base: str, suffix: str = "") -> None:
        self.base = base
        self.suffix = suffix

    def base_url(self, options: Mapping[str, object]) -> str:
        return self.base

    def check_options(self, options: Mapping[str, object]) -> None:
        if options:
            raise TypeError("acme takes no options")

    def headers(self, api_key: str | None, options: Mapping[str, object]) -> dict[str, str]:
        return {"content-type": "application/json"}

    def prepare(self, request: Request, client: llm.Client) -> HTTPRequest:
        check_params(request, self.parameters)
        prompt = request.messages[-1].text
        return HTTPRequest(url=f"{client.base_url}/generate", body={"model": request.model, "prompt": prompt})

    def decode(self, request: Request, body: Any) -> Decoded:
        text = body["text"] + self.suffix
        message = llm.Message(role="assistant", content=(llm.Text(text),), model=request.model_id, raw=body)
        return Decoded(message=message, finish_reason="stop")

    def stream_decoder(self, request: Request) -> StreamDecoder:
        raise NotImplementedError("the echo provider does not stream")

    def error(self, request: Request, response: httpx.Response) -> llm.APIError:
        return error_from_response(self, response)


def test_a_registered_provider_answers_to_its_prefix(replay_server: ReplayServer) -> None:
    register("acme", EchoProvider(replay_server.url))
    try:

        @llm.call("acme:echo-1")
        def shout(word: str) -> str:
            return word.upper()

        with replay_server.replaying([{"status": 200, "json": {"text": "HELLO"}}]) as session:
            response = shout("hello")
    finally:
        unregister("acme")

    assert session.requests[0].path == "/generate"
    assert session.requests[0].json() == {"model": "echo-1", "prompt": "HELLO"}
    assert response.content == "HELLO"
    assert response.model == "acme:echo-1"


def test_registering_again_replaces_the_provider_for_existing_models(replay_server: ReplayServer) -> None:
    model = llm.model("acme:echo-1")
    register("acme", EchoProvider(replay_server.url))
    try:
        with replay_server.replaying([{"status": 200, "json": {"text": "a"}}, {"status": 200, "json": {"text": "b"}}]):
            first = model.call("x")
            register("acme", EchoProvider(replay_server.url, suffix="!"))
            second = model.call("x")
    finally:
        unregister("acme")
    assert (first.content, second.content) == ("a", "b!")


def test_a_registered_provider_failure_is_a_typed_error(replay_server: ReplayServer) -> None:
    register("acme", EchoProvider(replay_server.url))
    reply = {"status": 503, "json": {"error": {"message": "warming up"}}}
    try:
        with replay_server.replaying([reply]), pytest.raises(llm.ServerError, match="warming up") as raised:
            llm.model("acme:echo-1", retries=0).call("x")  # one reply is queued: no retry
    finally:
        unregister("acme")
    assert raised.value.provider == "acme"
