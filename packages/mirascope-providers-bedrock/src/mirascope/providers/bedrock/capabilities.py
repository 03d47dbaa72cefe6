"""What each Bedrock model can take, from its model id.

A Bedrock model id names its maker first (`anthropic.claude-sonnet-4-5-20250929-v1:0`,
`amazon.nova-pro-v1:0`); an inference profile puts a geography in front (`us.`, `eu.`,
`global.`, ...), and an ARN wraps either (`arn:aws:bedrock:us-east-1:123456789012:inference-profile/
us.anthropic...`, `.../foundation-model/anthropic...`). The maker is the model's family: each
family takes `top_k`, thinking and tool results its own way through Converse. The facts about
each model (inputs, thinking, native structured output, output limit, prices) come from
Mirascope's model table, which this package's `models.toml` feeds; the rest here is about the
API, as the recorded exchanges show it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, NamedTuple, TypeAlias

from mirascope import llm

__all__ = [
    "PROFILE_PREFIXES",
    "Capabilities",
    "Family",
    "MediaKind",
    "base_model",
    "capabilities",
    "family_of",
]

Family: TypeAlias = Literal[
    "anthropic",
    "amazon",
    "meta",
    "mistral",
    "deepseek",
    "openai",
    "qwen",
    "moonshot",
    "writer",
    "zai",
    "cohere",
    "ai21",
    "other",
]
"""Who made the model: each family takes model-specific settings its own way."""

MediaKind: TypeAlias = Literal["image", "document", "video", "audio"]
"""A Converse content block holding media."""

PROFILE_PREFIXES = ("us", "eu", "apac", "global", "jp", "au", "us-gov", "ca")
"""The geographies of Bedrock's cross-region inference profiles (`us.anthropic...`); `models.toml`
lists the same ones, so that the model table finds a profile's base model too."""

_FAMILIES: dict[str, Family] = {
    "anthropic": "anthropic",
    "amazon": "amazon",
    "meta": "meta",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "openai": "openai",
    "qwen": "qwen",
    "moonshot": "moonshot",
    "moonshotai": "moonshot",
    "writer": "writer",
    "zai": "zai",
    "cohere": "cohere",
    "ai21": "ai21",
}

# Media each family takes inside a `toolResult` (the rest of what a tool returns goes after it,
# in the conversation): Claude images and documents; Nova images only (a document or video
# inside one is "extraneous"); Llama images and documents; Pixtral documents.
_IN_TOOL_RESULT: dict[Family, frozenset[MediaKind]] = {
    "anthropic": frozenset({"image", "document"}),
    "amazon": frozenset({"image"}),
    "meta": frozenset({"image", "document"}),
    "mistral": frozenset({"document"}),
}

# Families that take other content in the same turn as a `toolResult`; every other one answers
# "Conversation blocks and tool result blocks cannot be provided in the same turn" (Writer,
# Llama, Mistral), so that content goes in a turn of its own.
_SHARES_TOOL_RESULT_TURN: frozenset[Family] = frozenset({"anthropic", "amazon"})

# Families that take `toolChoice` `any` and `tool` (a forced call); `auto` is every model's default.
_FORCES_TOOLS: frozenset[Family] = frozenset({"anthropic", "amazon", "mistral"})

# Families that are sent `toolChoice: auto` with their tools, as the recorded calls were.
_SAYS_AUTO: frozenset[Family] = frozenset({"anthropic", "amazon", "moonshot"})


def base_model(model: str) -> str:
    """The foundation model's id: without an ARN's path or an inference profile's geography."""
    name = model.rsplit("/", 1)[-1] if model.startswith("arn:") else model
    geography, dot, rest = name.partition(".")
    if dot and geography in PROFILE_PREFIXES and "." in rest:
        return rest
    return name


def family_of(model: str) -> Family:
    """The family of a model id (profile prefixes and ARNs allowed)."""
    return _FAMILIES.get(base_model(model).partition(".")[0], "other")


class Capabilities(NamedTuple):
    """What a model can take."""

    family: Family
    """Who made it."""
    known: bool
    """Whether the model table knows it (an unknown model is not checked before a call)."""
    inputs: frozenset[MediaKind]
    """The media it takes in a user turn (documents other than PDF are text: every model reads them)."""
    thinks: bool
    """Whether it reasons, so that `thinking=` applies."""
    native_output: bool
    """Whether it takes `outputConfig` (a JSON schema its reply follows) and strict tools."""
    max_output_tokens: int | None
    """The most tokens one reply may hold, when known."""

    @property
    def in_tool_result(self) -> frozenset[MediaKind]:
        """The media it takes inside a `toolResult`."""
        return _IN_TOOL_RESULT.get(self.family, frozenset())

    @property
    def shares_tool_result_turn(self) -> bool:
        """Whether other content may share a turn with a `toolResult`."""
        return self.family in _SHARES_TOOL_RESULT_TURN

    @property
    def forces_tools(self) -> bool:
        """Whether it takes a forced tool call (`toolChoice` `any` or `tool`)."""
        return self.family in _FORCES_TOOLS

    @property
    def says_auto(self) -> bool:
        """Whether its tools are sent with `toolChoice: auto`."""
        return self.family in _SAYS_AUTO

    @property
    def takes_s3(self) -> bool:
        """Whether it reads media from `s3://` locations (Claude answers "doesn't support the s3Uri field")."""
        return self.family == "amazon"


_ALL_MEDIA: frozenset[MediaKind] = frozenset({"image", "document", "video", "audio"})


@lru_cache(maxsize=128)
def capabilities(model: str) -> Capabilities:
    """What the model named `model` (the part after `bedrock:`) can take, from the model table.

    A model the table does not know is not checked: every input is allowed and Bedrock judges.
    """
    family = family_of(model)
    info = llm.model_info(f"bedrock:{base_model(model)}")
    if info is None:
        return Capabilities(family, False, _ALL_MEDIA, family in ("anthropic", "deepseek", "openai"), False, None)
    inputs: set[MediaKind] = {"document"}  # text documents go to every model
    if info.image_input:
        inputs.add("image")
    if info.video_input:
        inputs.add("video")
    if info.audio_input:
        inputs.add("audio")
    return Capabilities(
        family,
        True,
        frozenset(inputs),
        info.thinking,
        info.strict_outputs,
        info.max_output_tokens,
    )
