"""The Converse encoder: the recorded requests rebuilt from llm values, refusals, and provider_params.

Each recorded Converse request is read back into the `llm.Request` it implies (the messages as
llm values, the tools as `llm.Tool`s with the recorded schemas, the parameters as call
parameters or `provider_params`), encoded, and compared with the recorded body by meaning.
Where Bedrock answered 400 to what was recorded (video on Claude, S3 media on Claude), the
encoder must refuse before sending instead; where Nova refused a document inside a tool
result, the encoder must send it after the result instead.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from mirascope import llm
from mirascope.llm.content import ToolOutputPart
from mirascope.llm.providers import FORMAT_TOOL_NAME, Request
from mirascope.providers.bedrock import encode as bedrock_encode
from mirascope.providers.bedrock.capabilities import base_model, capabilities, family_of
from mirascope.providers.bedrock.encode import PARAMETERS, encode, model_path
from pydantic import BaseModel

from tests.support.meaning import meaning

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bedrock"

_MIME = {
    "image": {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"},
    "document": {"pdf": "application/pdf", "txt": "text/plain", "md": "text/markdown", "csv": "text/csv"},
    "video": {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"},
    "audio": {"mp3": "audio/mpeg", "wav": "audio/wav"},
}
_PARTS: dict[str, type[llm.Image | llm.Audio | llm.Video | llm.Document]] = {
    "image": llm.Image,
    "document": llm.Document,
    "video": llm.Video,
    "audio": llm.Audio,
}


# --- reading a recorded request back into llm values -------------------------------------------


def _media(kind: str, block: dict[str, Any]) -> llm.Image | llm.Audio | llm.Video | llm.Document:
    mime = _MIME[kind][block["format"]]
    source = block["source"]
    if "s3Location" in source:
        return _PARTS[kind](mime_type=mime, url=source["s3Location"]["uri"])
    return _PARTS[kind](mime_type=mime, data=source["bytes"])


def _label(part: llm.Image | llm.Audio | llm.Video | llm.Document) -> str:
    named = part.to_bytes() if part.data is not None else (part.url or "").encode()
    return hashlib.sha1(named, usedforsecurity=False).hexdigest()[:6]


def _user_parts(blocks: list[dict[str, Any]], names: dict[str, str]) -> list[llm.ContentPart]:
    """A user turn's parts; media moved out of a tool result go back into it."""
    moved: dict[str, llm.Image | llm.Audio | llm.Video | llm.Document] = {}
    kept: list[dict[str, Any]] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        text = block.get("text", "")
        if text.startswith("This is file ") and index + 1 < len(blocks):
            ((kind, media),) = blocks[index + 1].items()
            moved[text.removeprefix("This is file ").rstrip(":")] = _media(kind, media)
            index += 2
            continue
        kept.append(block)
        index += 1
    parts: list[llm.ContentPart] = []
    for block in kept:
        ((kind, value),) = block.items()
        if kind == "text":
            parts.append(llm.Text(value))
        elif kind == "cachePoint":
            parts.append(llm.CacheControl())
        elif kind == "toolResult":
            content: list[ToolOutputPart] = []
            for item in value["content"]:
                ((inner, data),) = item.items()
                if inner == "text" and data.startswith("See file ") and data[9:-1] in moved:
                    content.append(moved[data[9:-1]])
                elif inner == "text":
                    content.append(llm.Text(data))
                else:
                    content.append(_media(inner, data))
            tool_id = value["toolUseId"]
            is_error = value.get("status") == "error"
            if all(isinstance(part, llm.Text) for part in content) and len(content) == 1:
                text_part = cast("llm.Text", content[0])
                parts.append(llm.ToolOutput(id=tool_id, name=names[tool_id], result=text_part.text, is_error=is_error))
            else:
                parts.append(llm.ToolOutput(id=tool_id, name=names[tool_id], content=content, is_error=is_error))
        else:
            parts.append(_media(kind, value))
    return parts


def _assistant_parts(blocks: list[dict[str, Any]]) -> list[llm.ContentPart]:
    parts: list[llm.ContentPart] = []
    for block in blocks:
        if "text" in block:
            parts.append(llm.Text(block["text"]))
        elif "toolUse" in block:
            call = block["toolUse"]
            parts.append(llm.ToolCall(id=call["toolUseId"], name=call["name"], args=call["input"]))
        elif "reasoningContent" in block:
            reasoning = block["reasoningContent"]
            if "redactedContent" in reasoning:
                parts.append(llm.Thought(text="", signature=reasoning["redactedContent"]))
            else:
                said = reasoning["reasoningText"]
                parts.append(llm.Thought(text=said["text"], signature=said.get("signature")))
    return parts


def _is_filler(turn: dict[str, Any]) -> bool:
    return turn["role"] == "assistant" and turn["content"] == [{"text": "."}]


def _messages(body: dict[str, Any], model_id: str) -> list[llm.Message]:
    messages: list[llm.Message] = []
    system = body.get("system") or []
    if system:
        parts: list[llm.ContentPart] = [
            llm.CacheControl() if "cachePoint" in block else llm.Text(block["text"]) for block in system
        ]
        messages.append(llm.Message(role="system", content=tuple(parts)))
    names: dict[str, str] = {}
    turns: list[dict[str, Any]] = body["messages"]
    index = 0
    while index < len(turns):
        turn = turns[index]
        if turn["role"] == "assistant":
            for block in turn["content"]:
                if "toolUse" in block:
                    names[block["toolUse"]["toolUseId"]] = block["toolUse"]["name"]
            messages.append(
                llm.Message(
                    role="assistant", content=tuple(_assistant_parts(turn["content"])), model=model_id, raw=turn
                )
            )
            index += 1
            continue
        blocks = list(turn["content"])
        only_results = all("toolResult" in block for block in blocks)
        # A tool-result turn, a "." turn and the turn after it: one user message, split for the model.
        if only_results and index + 2 < len(turns) and _is_filler(turns[index + 1]):
            blocks += turns[index + 2]["content"]
            index += 2
        messages.append(llm.Message(role="user", content=tuple(_user_parts(blocks, names))))
        index += 1
    return messages


def _noop() -> None: ...


def _tools(body: dict[str, Any]) -> list[llm.Tool[..., Any]]:
    tools: list[llm.Tool[..., Any]] = []
    for entry in (body.get("toolConfig") or {}).get("tools", []):
        if "cachePoint" in entry:
            tools[-1].cache_control = llm.CacheControl()
            continue
        spec = entry["toolSpec"]
        tool = llm.Tool(
            _noop, name=spec["name"], description=spec.get("description"), parameters=spec["inputSchema"]["json"]
        )
        tool.strict = bool(spec.get("strict"))  # the recorded schema as it is, not made strict again
        tools.append(tool)
    return tools


def _params(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The call parameters and the provider_params a recorded body implies."""
    params: dict[str, Any] = {}
    config = body.get("inferenceConfig") or {}
    if "maxTokens" in config:
        params["max_tokens"] = config["maxTokens"]
    extra = dict(body.get("additionalModelRequestFields") or {})
    if "top_k" in extra:
        params["top_k"] = extra.pop("top_k")
    thinking = extra.pop("thinking", None)
    if thinking is not None:
        params["thinking"] = llm.Thinking(budget_tokens=thinking["budget_tokens"])
    provider_params: dict[str, Any] = {key: body[key] for key in ("performanceConfig", "serviceTier") if key in body}
    choice = (body.get("toolConfig") or {}).get("toolChoice")
    if choice is not None and "auto" not in choice:
        provider_params["toolConfig"] = {"toolChoice": choice}  # a tool by name: core has no setting for it
    if extra:
        provider_params["additionalModelRequestFields"] = extra
    return params, provider_params


def _request(recorded_model: str, body: dict[str, Any]) -> Request:
    model_id = f"bedrock:{recorded_model}"
    params, provider_params = _params(body)
    return Request(
        model_id=model_id,
        model=recorded_model,
        messages=tuple(_messages(body, model_id)),
        params=cast("llm.CallParams", params),
        provider_params=provider_params,
        tools=_tools(body),
    )


_LABEL = re.compile(r"^(See file |This is file )[0-9a-f]{6}([.:])$")


def _comparable(body: dict[str, Any]) -> Any:
    """The body's meaning: an empty `inferenceConfig` is Bedrock's defaults, sent or not, and the
    label naming a file moved out of a tool result is any label both places give."""

    def unlabel(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: unlabel(value) for key, value in cast("dict[str, Any]", node).items()}
        if isinstance(node, list):
            return [unlabel(item) for item in cast("list[Any]", node)]
        return _LABEL.sub(r"\1LABEL\2", node) if isinstance(node, str) else node

    kept = {key: value for key, value in body.items() if not (key == "inferenceConfig" and not value)}
    return meaning(unlabel(kept))


def _recorded() -> list[tuple[str, str, int, dict[str, Any], int, str]]:
    found: list[tuple[str, str, int, dict[str, Any], int, str]] = []
    for path in sorted(FIXTURES.glob("*/*/*.json")):
        recording = json.loads(path.read_text("utf-8"))
        for number, exchange in enumerate(recording["exchanges"]):
            request = exchange["request"]
            if "json" not in request or not request["url"].endswith(("/converse", "/converse-stream")):
                continue  # CountTokens is out of scope; one recording's body is not JSON
            found.append(
                (
                    f"{path.parent.parent.name}/{path.stem}#{number}",
                    recording["scenario"]["model"],
                    number,
                    request["json"],
                    exchange["response"]["status"],
                    json.dumps(exchange["response"].get("json") or {}),
                )
            )
    return found


RECORDED = _recorded()
# Structured output the recording library asked for with its own output tool (`final_result`)
# or its own schema dialect: checked against Mirascope's own format below, not byte by byte.
_OWN_FORMAT = ("final_result",)


def _uses_other_format(body: dict[str, Any]) -> bool:
    tools = (body.get("toolConfig") or {}).get("tools", [])
    return "outputConfig" in body or any(tool.get("toolSpec", {}).get("name") in _OWN_FORMAT for tool in tools)


ACCEPTED = [case for case in RECORDED if case[4] == 200 and not _uses_other_format(case[3])]
REFUSED = [case for case in RECORDED if case[4] == 400]


def test_the_recordings_are_read() -> None:
    assert len(ACCEPTED) >= 80
    assert len(REFUSED) >= 8


_FIELDS = ("label", "model", "number", "body", "status", "reply")


@pytest.mark.parametrize(_FIELDS, ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_a_recorded_request_is_encoded_as_recorded(
    label: str, model: str, number: int, body: dict[str, Any], status: int, reply: str
) -> None:
    assert _comparable(encode(_request(model, body))) == _comparable(body)


@pytest.mark.parametrize(_FIELDS, REFUSED, ids=[c[0] for c in REFUSED])
def test_what_bedrock_refused_is_refused_before_sending_or_sent_as_it_takes_it(
    label: str, model: str, number: int, body: dict[str, Any], status: int, reply: str
) -> None:
    request = _request(model, body)
    if "video content block" in reply or "s3Uri" in reply:
        # Claude takes no video, and reads nothing from S3: refused with the next step, nothing sent.
        with pytest.raises(llm.FeatureNotSupportedError) as raised:
            encode(request)
        assert "s3://" in str(raised.value) or "video" in str(raised.value)
        return
    assert "extraneous key [toolResult]" in reply  # Nova: a document or video inside a tool result
    sent = encode(request)
    last = sent["messages"][-1]["content"]
    (result,) = [block["toolResult"] for block in last if "toolResult" in block]
    assert all("text" in item for item in result["content"])
    media = [block for block in last if {"document", "video"} & block.keys()]
    assert len(media) == 1
    ((kind, block),) = media[0].items()
    assert block["source"] == body["messages"][-1]["content"][0]["toolResult"]["content"][0][kind]["source"]


# --- model ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "base"),
    [
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("global.anthropic.claude-sonnet-4-6", "anthropic.claude-sonnet-4-6"),
        ("apac.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-20250514-v1:0",
            "anthropic.claude-sonnet-4-20250514-v1:0",
        ),
        ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2", "anthropic.claude-v2"),
        ("moonshot.kimi-k2-thinking", "moonshot.kimi-k2-thinking"),
    ],
)
def test_a_profile_or_arn_names_its_base_model_and_its_table_entry(model: str, base: str) -> None:
    assert base_model(model) == base
    info = llm.model_info(f"bedrock:{model}")
    assert info is not None
    assert info.id == f"bedrock:{base}"


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic"),
        ("amazon.nova-micro-v1:0", "amazon"),
        ("us.meta.llama4-maverick-17b-instruct-v1:0", "meta"),
        ("mistral.mistral-large-3-675b-instruct", "mistral"),
        ("us.deepseek.r1-v1:0", "deepseek"),
        ("openai.gpt-oss-120b-1:0", "openai"),
        ("qwen.qwen3-32b-v1:0", "qwen"),
        ("moonshotai.kimi-k2.5", "moonshot"),
        ("us.writer.palmyra-x4-v1:0", "writer"),
        ("zai.glm-4.7-flash", "zai"),
        ("cohere.command-r-plus-v1:0", "cohere"),
        ("ai21.jamba-1-5-large-v1:0", "ai21"),
        ("some-model", "other"),
    ],
)
def test_the_family_is_the_maker_after_any_profile(model: str, family: str) -> None:
    assert family_of(model) == family


def test_the_model_path_escapes_every_reserved_character() -> None:
    assert (
        model_path("us.anthropic.claude-sonnet-4-5-20250929-v1:0") == "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0"
    )
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0"
    assert model_path(arn) == (
        "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.amazon.nova-pro-v1%3A0"
    )


def test_the_recorded_models_are_in_the_table_with_prices_for_the_claude_and_nova_ones() -> None:
    models = {case[1] for case in RECORDED} - {"does-not-exist-model-v1:0"}
    for model in models:
        assert llm.model_info(f"bedrock:{model}") is not None, model
    info = llm.model_info("bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert info is not None
    assert (info.input_price, info.output_price, info.cache_read_price, info.cache_write_price) == (
        3.0,
        15.0,
        0.3,
        3.75,
    )
    assert info.image_input
    assert info.pdf_input
    assert not info.video_input
    nova = llm.model_info("bedrock:us.amazon.nova-pro-v1:0")
    assert nova is not None
    assert nova.video_input
    assert nova.input_price == 0.8


# --- building requests by hand -----------------------------------------------------------------


def _make(model: str, *messages: llm.Message, **fields: Any) -> Request:
    fields.setdefault("params", {})
    return Request(model_id=f"bedrock:{model}", model=model, messages=messages, **fields)


CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "us.amazon.nova-pro-v1:0"
NOVA_2 = "us.amazon.nova-2-lite-v1:0"
LLAMA = "us.meta.llama4-maverick-17b-instruct-v1:0"
GPT_OSS = "openai.gpt-oss-120b-1:0"
JPEG = llm.Image(mime_type="image/jpeg", data=base64.b64encode(b"\xff\xd8\xff fake").decode())


def _params_request(model: str, **params: Any) -> Request:
    return _make(model, llm.messages.user("Hi"), params=cast("llm.CallParams", params))


def test_the_inference_parameters_go_in_inference_config() -> None:
    body = encode(_params_request(NOVA, temperature=0.2, max_tokens=50, top_p=0.9, stop="END"))
    assert body["inferenceConfig"] == {"temperature": 0.2, "maxTokens": 50, "topP": 0.9, "stopSequences": ["END"]}


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (CLAUDE, {"top_k": 20}),
        (NOVA, {"inferenceConfig": {"topK": 20}}),
        ("mistral.pixtral-large-2502-v1:0", {"top_k": 20}),
    ],
)
def test_top_k_goes_in_the_family_s_own_fields(model: str, fields: dict[str, Any]) -> None:
    assert encode(_params_request(model, top_k=20))["additionalModelRequestFields"] == fields


def test_top_k_is_refused_for_llama() -> None:
    with pytest.raises(llm.FeatureNotSupportedError) as raised:
        encode(_params_request(LLAMA, top_k=20))
    assert raised.value.feature == "top_k"


def test_the_seed_is_left_out_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mirascope"):
        body = encode(_params_request(CLAUDE, seed=4242))
    assert "4242" not in json.dumps(body)
    assert [record.getMessage() for record in caplog.records if record.name == "mirascope"] == [
        f"bedrock:{CLAUDE} does not support seed (Converse has no seed); it was not sent."
    ]


@pytest.mark.parametrize(
    ("model", "thinking", "fields"),
    [
        (CLAUDE, "medium", {"thinking": {"type": "enabled", "budget_tokens": 6400}}),
        (CLAUDE, "minimal", {"thinking": {"type": "enabled", "budget_tokens": 1024}}),
        (CLAUDE, llm.Thinking(budget_tokens=10000), {"thinking": {"type": "enabled", "budget_tokens": 10000}}),
        (CLAUDE, "none", {"thinking": {"type": "disabled"}}),
        (NOVA_2, "high", {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}}),
        (GPT_OSS, "low", {"reasoning_effort": "low"}),
        (GPT_OSS, "none", {"reasoning_effort": "low"}),
    ],
)
def test_thinking_goes_in_the_family_s_own_fields(
    model: str, thinking: llm.Thinking | llm.ThinkingLevel, fields: dict[str, Any]
) -> None:
    assert encode(_params_request(model, thinking=thinking))["additionalModelRequestFields"] == fields


def test_thinking_on_a_model_that_always_reasons_sends_nothing() -> None:
    assert "additionalModelRequestFields" not in encode(_params_request("us.deepseek.r1-v1:0", thinking="high"))


def test_thinking_on_a_model_that_does_not_reason_is_refused_but_none_is_not() -> None:
    with pytest.raises(llm.FeatureNotSupportedError) as raised:
        encode(_params_request(NOVA, thinking="high"))
    assert "does not reason" in str(raised.value)
    assert "additionalModelRequestFields" not in encode(_params_request(NOVA, thinking="none"))


def test_a_thinking_budget_at_or_above_max_tokens_is_refused() -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="raise max_tokens"):
        encode(_params_request(CLAUDE, thinking=llm.Thinking(budget_tokens=4000), max_tokens=2000))


def test_thinking_on_a_family_mirascope_does_not_know_is_refused_with_the_next_step() -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="additionalModelRequestFields"):
        encode(_params_request("some-model", thinking="low"))


def test_every_call_parameter_is_declared() -> None:
    assert set(PARAMETERS) == set(llm.CallParams.__annotations__)


# --- media and refusals --------------------------------------------------------------------------


def test_an_s3_url_is_an_s3_location_on_nova() -> None:
    video = llm.Video.from_url("s3://bucket/clip.mp4")
    body = encode(_make(NOVA, llm.messages.user(["Describe", video])))
    assert body["messages"][0]["content"][1] == {
        "video": {"format": "mp4", "source": {"s3Location": {"uri": "s3://bucket/clip.mp4"}}}
    }


@pytest.mark.parametrize("url", ["https://example.com/cat.jpg", "http://example.com/cat.jpg"])
def test_a_web_url_is_refused_with_a_hint_to_pass_bytes_or_s3(url: str) -> None:
    with pytest.raises(llm.FeatureNotSupportedError) as raised:
        encode(_make(NOVA, llm.messages.user(["What is it?", llm.Image.from_url(url)])))
    message = str(raised.value)
    assert "from_file" in message
    assert "s3://" in message
    assert url not in message


def test_s3_media_is_refused_on_claude() -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="Amazon S3"):
        encode(_make(CLAUDE, llm.messages.user(["What is it?", llm.Image.from_url("s3://bucket/cat.jpg")])))


def test_video_is_refused_on_claude_even_in_a_tool_output() -> None:
    video = llm.Video(mime_type="video/mp4", data=base64.b64encode(b"....ftypmp42").decode())
    output = llm.ToolOutput(id="t1", name="get_file", content=[video])
    call = llm.Message(
        role="assistant", content=(llm.ToolCall(id="t1", name="get_file"),), model=f"bedrock:{CLAUDE}", raw=None
    )
    with pytest.raises(llm.FeatureNotSupportedError, match="video"):
        encode(_make(CLAUDE, llm.messages.user("Get it"), call, llm.messages.user([output])))


def test_a_system_message_with_media_is_refused() -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="system"):
        encode(_make(NOVA, llm.messages.system(["Look:", JPEG]), llm.messages.user("Hi")))


def test_provider_tools_are_refused() -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="WebSearch"):
        encode(_make(CLAUDE, llm.messages.user("Search"), provider_tools=[llm.WebSearch()]))


def test_an_image_format_bedrock_lacks_is_refused() -> None:
    heic = llm.Image(mime_type="image/heic", data=base64.b64encode(b"x").decode())
    with pytest.raises(llm.FeatureNotSupportedError, match="JPEG, PNG, GIF and WebP"):
        encode(_make(NOVA, llm.messages.user(["What is it?", heic])))


def test_documents_are_named_in_order() -> None:
    first = llm.Document(mime_type="text/plain", data=base64.b64encode(b"one").decode())
    second = llm.Document(mime_type="application/pdf", data=base64.b64encode(b"%PDF-1.4").decode())
    body = encode(_make(CLAUDE, llm.messages.user([first, second, "Compare them"])))
    content = body["messages"][0]["content"]
    assert [block["document"]["name"] for block in content[:2]] == ["Document 1", "Document 2"]
    assert [block["document"]["format"] for block in content[:2]] == ["txt", "pdf"]


# --- conversation shapes -----------------------------------------------------------------------


def _tool_turns(model: str, output: llm.ToolOutput, *rest: str | llm.ContentPart) -> Request:
    call = llm.Message(role="assistant", content=(llm.ToolCall(id=output.id, name=output.name),))
    return _make(model, llm.messages.user("Go"), call, llm.messages.user([output, *rest]))


def test_llama_gets_a_tool_result_in_a_turn_of_its_own() -> None:
    body = encode(_tool_turns(LLAMA, llm.ToolOutput(id="t1", name="f", result="ok"), "Now say DONE."))
    assert [turn["role"] for turn in body["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    assert body["messages"][3] == {"role": "assistant", "content": [{"text": "."}]}
    assert body["messages"][4]["content"] == [{"text": "Now say DONE."}]


def test_nova_takes_an_image_inside_a_tool_result_and_a_video_after_it() -> None:
    video = llm.Video(mime_type="video/mp4", data=base64.b64encode(b"video bytes").decode())
    output = llm.ToolOutput(id="t1", name="f", content=[JPEG, video])
    body = encode(_tool_turns(NOVA, output))
    (turn,) = [turn for turn in body["messages"] if any("toolResult" in block for block in turn["content"])]
    result, intro, moved = turn["content"]
    label = _label(video)
    assert result["toolResult"]["content"] == [
        {"image": {"format": "jpeg", "source": {"bytes": JPEG.data}}},
        {"text": f"See file {label}."},
    ]
    assert intro == {"text": f"This is file {label}:"}
    assert moved == {"video": {"format": "mp4", "source": {"bytes": video.data}}}


def test_a_failed_tool_says_so() -> None:
    body = encode(_tool_turns(CLAUDE, llm.ToolOutput(id="t1", name="f", result="boom", is_error=True)))
    assert body["messages"][2]["content"][0]["toolResult"]["status"] == "error"


def test_adjacent_turns_of_one_role_are_joined() -> None:
    body = encode(_make(NOVA, llm.messages.user("one"), llm.messages.user("two")))
    assert body["messages"] == [{"role": "user", "content": [{"text": "one"}, {"text": "two"}]}]


def test_the_model_s_own_reply_goes_back_as_it_came_with_its_signatures() -> None:
    raw = {
        "role": "assistant",
        "content": [
            {"reasoningContent": {"redactedContent": "c2VjcmV0"}},
            {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}},
            {"text": "Hi"},
            {"toolUse": {"toolUseId": "t1", "name": "f", "input": {}, "type": "tool_use"}},
        ],
    }
    reply = llm.Message(
        role="assistant",
        content=(llm.Text("Hi"),),
        model="bedrock:global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        raw=raw,
    )
    body = encode(_make(CLAUDE, llm.messages.user("Hi"), reply, llm.messages.user("Again")))
    assert body["messages"][1]["content"] == [
        *raw["content"][:3],
        {"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}},
    ]


def test_another_model_s_reply_is_sent_from_its_parts_without_its_reasoning() -> None:
    reply = llm.Message(
        role="assistant",
        content=(llm.Thought(text="hmm", signature="sig"), llm.Text("Hi")),
        model="anthropic:claude-sonnet-4-5",
        raw=[{"type": "thinking"}],
    )
    body = encode(_make(CLAUDE, llm.messages.user("Hi"), reply, llm.messages.user("Again")))
    assert body["messages"][1]["content"] == [{"text": "Hi"}]


def test_unsigned_reasoning_of_the_model_s_own_reply_is_left_out() -> None:
    raw = {"role": "assistant", "content": [{"text": "ok"}, {"reasoningContent": {"reasoningText": {"text": "x"}}}]}
    reply = llm.Message(role="assistant", content=(llm.Text("ok"),), model="bedrock:us.deepseek.r1-v1:0", raw=raw)
    body = encode(_make("us.deepseek.r1-v1:0", llm.messages.user("Hi"), reply, llm.messages.user("More")))
    assert body["messages"][1]["content"] == [{"text": "ok"}]


def test_cache_control_becomes_cache_points_in_system_messages_and_tools() -> None:
    tool = llm.Tool(_noop, name="lookup", parameters={"type": "object", "properties": {}})
    tool.cache_control = llm.CacheControl()
    request = _make(
        CLAUDE,
        llm.messages.system(["Be brief.", llm.CacheControl()]),
        llm.messages.user(["Long text", llm.CacheControl(), "Question"]),
        tools=[tool],
    )
    body = encode(request)
    point = {"cachePoint": {"type": "default"}}
    assert body["system"] == [{"text": "Be brief."}, point]
    assert body["messages"][0]["content"] == [{"text": "Long text"}, point, {"text": "Question"}]
    assert body["toolConfig"]["tools"][1] == point


# --- tools and structured output ---------------------------------------------------------------


class CityInfo(BaseModel):
    """Information about a city."""

    city: str
    country: str
    population: int


def _city_info(body: dict[str, Any]) -> bool:
    described = (body.get("outputConfig") or {}).get("textFormat", {}).get("structure", {}).get("jsonSchema", {})
    return described.get("name") == "CityInfo"


NATIVE = [case for case in RECORDED if case[4] == 200 and _city_info(case[3])]


def _schema_read(body: dict[str, Any]) -> dict[str, Any]:
    """The body with its output schema as the JSON it holds; the schema's own copy of the
    description is left out (the recording gave it beside the schema only)."""
    out = json.loads(json.dumps(body))
    described = out["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    schema = json.loads(described["schema"])
    schema.pop("description", None)
    described["schema"] = schema
    return out


def test_the_recorded_native_outputs_are_asked_for_as_recorded() -> None:
    assert len(NATIVE) >= 4  # Mistral Large 3, Qwen3, and Claude beside a strict tool
    for _, model, _, body, _, _ in NATIVE:
        request = attrs.evolve(_request(model, body), format=llm.response_model(CityInfo))
        assert _comparable(_schema_read(encode(request))) == _comparable(_schema_read(body)), model


def test_structured_output_is_native_where_the_model_has_it() -> None:
    request = _make(CLAUDE, llm.messages.user("Paris?"), format=llm.response_model(CityInfo))
    body = encode(request)
    described = body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    assert body["outputConfig"]["textFormat"]["type"] == "json_schema"
    assert described["name"] == "CityInfo"
    assert described["description"] == "Information about a city."
    schema = json.loads(described["schema"])
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == ["city", "country", "population"]
    assert "toolConfig" not in body


def test_structured_output_is_a_forced_tool_where_the_model_lacks_native_output() -> None:
    request = _make(NOVA, llm.messages.user("Paris?"), format=llm.response_model(CityInfo))
    body = encode(request)
    assert "outputConfig" not in body
    (tool,) = body["toolConfig"]["tools"]
    assert tool["toolSpec"]["name"] == FORMAT_TOOL_NAME
    assert body["toolConfig"]["toolChoice"] == {"tool": {"name": FORMAT_TOOL_NAME}}
    assert FORMAT_TOOL_NAME in body["system"][0]["text"]


def test_structured_output_beside_the_user_s_tools_asks_for_any_tool() -> None:
    tool = llm.Tool(_noop, name="get_weather", parameters={"type": "object", "properties": {}})
    body = encode(_make(NOVA, llm.messages.user("Paris?"), tools=[tool], format=llm.response_model(CityInfo)))
    assert [entry["toolSpec"]["name"] for entry in body["toolConfig"]["tools"]] == ["get_weather", FORMAT_TOOL_NAME]
    assert body["toolConfig"]["toolChoice"] == {"any": {}}


def test_a_forced_tool_is_not_asked_of_llama_which_takes_none() -> None:
    body = encode(_make(LLAMA, llm.messages.user("Paris?"), format=llm.response_model(CityInfo)))
    assert "toolChoice" not in body["toolConfig"]


def test_strict_tools_are_refused_on_a_model_without_them() -> None:
    tool = llm.Tool(_noop, name="f", parameters={"type": "object", "properties": {}}, strict=True)
    with pytest.raises(llm.FeatureNotSupportedError, match="strict"):
        encode(_make(NOVA, llm.messages.user("Go"), tools=[tool]))
    body = encode(_make(CLAUDE, llm.messages.user("Go"), tools=[tool]))
    assert body["toolConfig"]["tools"][0]["toolSpec"]["strict"] is True


# --- provider_params ---------------------------------------------------------------------------


def test_provider_params_are_merged_one_level_at_a_time() -> None:
    request = _make(
        CLAUDE,
        llm.messages.user("Hi"),
        params=cast("llm.CallParams", {"top_k": 5, "max_tokens": 100}),
        provider_params={
            "additionalModelRequestFields": {"anthropic_beta": ["context-1m-2025-08-07"]},
            "inferenceConfig": {"temperature": 0.5},
            "guardrailConfig": {"guardrailIdentifier": "g1", "guardrailVersion": "1"},
            "serviceTier": {"type": "flex"},
        },
    )
    body = encode(request)
    assert body["additionalModelRequestFields"] == {"top_k": 5, "anthropic_beta": ["context-1m-2025-08-07"]}
    assert body["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.5}
    assert body["guardrailConfig"] == {"guardrailIdentifier": "g1", "guardrailVersion": "1"}
    assert body["serviceTier"] == {"type": "flex"}


def test_provider_params_may_not_replace_what_the_call_set_nor_the_conversation() -> None:
    replacing = _make(
        CLAUDE,
        llm.messages.user("Hi"),
        params=cast("llm.CallParams", {"max_tokens": 100}),
        provider_params={"inferenceConfig": {"maxTokens": 5}},
    )
    with pytest.raises(llm.FeatureNotSupportedError, match="maxTokens"):
        encode(replacing)
    with pytest.raises(llm.FeatureNotSupportedError, match="messages"):
        encode(_make(CLAUDE, llm.messages.user("Hi"), provider_params={"messages": []}))


def test_capabilities_of_an_unknown_model_check_nothing() -> None:
    caps = capabilities("some-model")
    assert not caps.known
    assert caps.family == "other"
    assert bedrock_encode.encode(_make("some-model", llm.messages.user(["Look", JPEG])))["messages"]


def test_a_one_hour_cache_point_says_so() -> None:
    body = encode(_make(CLAUDE, llm.messages.user(["Long text", llm.CacheControl(ttl="1h")])))
    assert body["messages"][0]["content"][1] == {"cachePoint": {"type": "default", "ttl": "1h"}}


def test_data_a_tool_returned_goes_as_its_json_text() -> None:
    body = encode(_tool_turns(NOVA, llm.ToolOutput(id="t1", name="f", value={"temperature": 30})))
    assert body["messages"][2]["content"][0]["toolResult"]["content"] == [{"text": '{"temperature": 30}'}]


def test_the_model_s_own_thoughts_without_raw_are_sent_from_their_parts() -> None:
    reply = llm.Message(
        role="assistant",
        content=(llm.Thought(text="hmm", signature="sig"), llm.Thought(text="", signature="c2VjcmV0"), llm.Text("Hi")),
        model=f"bedrock:{CLAUDE}",
    )
    body = encode(_make(CLAUDE, llm.messages.user("Hi"), reply, llm.messages.user("Again")))
    assert body["messages"][1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}},
        {"reasoningContent": {"redactedContent": "c2VjcmV0"}},
        {"text": "Hi"},
    ]


def test_json_mode_asks_in_the_system_prompt_only() -> None:
    request = _make(CLAUDE, llm.messages.user("Paris?"), format=llm.response_model(CityInfo, mode="json"))
    body = encode(request)
    assert "outputConfig" not in body
    assert "toolConfig" not in body
    assert '"population"' in body["system"][0]["text"]


def test_nova_2_thinks_only_when_asked() -> None:
    assert "additionalModelRequestFields" not in encode(_params_request(NOVA_2, thinking="none"))
    fields = encode(_params_request(NOVA_2, thinking=llm.Thinking(budget_tokens=2000)))["additionalModelRequestFields"]
    assert fields == {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}}


class CityBrief(BaseModel):
    city: str
    summary: str


class Response(BaseModel):
    temperature: str
    date: datetime.date
    city: str


def _tool_mode_read(body: dict[str, Any], instructions: str) -> dict[str, Any]:
    """The body with the recording's output tool under Mirascope's name, the output tool's own
    description and schema title left out, and the system prompt without the instruction to call it."""
    out = json.loads(json.dumps(body))
    for entry in out["toolConfig"]["tools"]:
        spec = entry.get("toolSpec", {})
        if spec.get("name") in ("final_result", FORMAT_TOOL_NAME):
            spec["name"] = FORMAT_TOOL_NAME
            spec.pop("description", None)
            spec["inputSchema"]["json"].pop("title", None)
    choice = out["toolConfig"].get("toolChoice", {})
    if choice.get("tool", {}).get("name") == "final_result":
        choice["tool"]["name"] = FORMAT_TOOL_NAME
    kept = []
    for block in out["system"]:
        text = block.get("text", "").replace(instructions, "").rstrip("\n")
        if "text" not in block or text:
            kept.append({**block, "text": text} if "text" in block else block)
    out["system"] = kept
    return out


@pytest.mark.parametrize(
    ("test", "output", "exchanges"),
    [
        ("test_tool_choice_matrix__tools_plus_output_bedrock", CityBrief, 2),
        ("test_bedrock_model_structured_output", Response, 2),
    ],
)
def test_the_recorded_output_tools_are_asked_for_as_recorded(
    test: str, output: type[BaseModel], exchanges: int
) -> None:
    cases = [case for case in RECORDED if case[0].startswith(f"{test}/")][:exchanges]
    assert len(cases) == exchanges
    format = llm.response_model(output, mode="tool", strict=False)
    instructions = format.system_instructions("tool") or ""
    for _, model, _, body, _, _ in cases:
        recorded = _request(model, body)
        request = attrs.evolve(
            recorded, tools=[tool for tool in recorded.tools if tool.name != "final_result"], format=format
        )
        sent = encode(request)
        assert _comparable(_tool_mode_read(sent, instructions)) == _comparable(_tool_mode_read(body, instructions))


def test_the_model_table_knows_the_same_profile_geographies_as_the_encoder() -> None:
    import tomllib

    from mirascope.providers.bedrock.capabilities import PROFILE_PREFIXES

    table = Path(bedrock_encode.__file__).with_name("models.toml")
    assert tuple(tomllib.loads(table.read_text("utf-8"))["profile_prefixes"]) == PROFILE_PREFIXES
