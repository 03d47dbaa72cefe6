"""A call's settings besides its model id and parameters, as one frozen value carried whole.

`CallSettings` is the one definition of these settings: `llm.call`, `llm.model`, `@llm.agent`,
`llm.override` and `llm.context` take them as keyword arguments (their typed overloads are
written from this class's fields by `scripts/generate_overloads.py`), and models, responses and
streams hold the value itself, so that `resume`, `continue_`, `validate`, fallbacks and overrides
derive the next call from it with `evolve`, never by copying settings one by one.

Each field's metadata says how it is written as a keyword argument:
- `param`: the parameter as it appears in a signature (`name: annotation = default`), or absent
  for a field filled from another argument (`provider_tools` comes from `tools=`);
- `doc`: the line that documents the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from attrs import field, fields, frozen

from .response_models import format_for
from .tools import split_tools

if TYPE_CHECKING:
    from .clients import Client
    from .provider_tools import ProviderTool
    from .response_models import Format
    from .tools import AnyTool, Tool

__all__ = ["PARAMETER_NAMES", "CallSettings", "changes_from_arguments"]


def _meta(param: str | None, doc: str) -> dict[str, str]:
    return {"doc": doc} if param is None else {"param": param, "doc": doc}


def _fallback_ids(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@frozen(kw_only=True)
class CallSettings:
    """Everything a call is made with besides the model id and the call parameters."""

    client: Client | None = field(
        default=None,
        eq=False,
        metadata=_meta(
            "client: Client | None = None",
            "A client from `llm.client(...)`; by default the provider's shared one.",
        ),
    )
    provider_params: Mapping[str, object] = field(
        factory=dict[str, object],
        converter=lambda value: dict[str, object](value or {}),
        metadata=_meta(
            "provider_params: Mapping[str, object] | None = None",
            "Provider-specific parameters, merged into the request (never over what the call sets).",
        ),
    )
    tools: tuple[Tool[..., Any], ...] = field(
        default=(),
        eq=False,
        metadata=_meta(
            "tools: Sequence[AnyTool] | None = None",
            "Tools the model may call (`@llm.tool` functions, `llm.BaseTool` classes), and tools "
            "the provider runs itself (`llm.WebSearch()`).",
        ),
    )
    provider_tools: tuple[ProviderTool, ...] = field(
        default=(),
        eq=False,
        metadata=_meta(None, "The tools of `tools=` that the provider runs itself."),
    )
    format: Format[Any] | None = field(
        default=None,
        eq=False,
        metadata=_meta(
            "response_model: type[U] | Format[U] | None = None",
            "The type to parse replies into (`response.parse()`).",
        ),
    )
    max_retries: int = field(
        default=0,
        metadata=_meta(
            "max_retries: int = 0",
            "How many times to ask again, with the parse error, for a reply that does not fit `response_model`.",
        ),
    )
    continue_on_max_tokens: int = field(
        default=0,
        metadata=_meta(
            "continue_on_max_tokens: int = 0",
            "How many times to continue a reply cut off at `max_tokens`, joining the pieces into "
            "one reply (`response.continue_()`).",
        ),
    )
    retries: int | None = field(
        default=None,
        metadata=_meta(
            "retries: int | None = None",
            "How many times to send a request again after a retryable failure (429, 5xx, 408/409, "
            "a broken connection, a timeout); by default the client's `max_retries`.",
        ),
    )
    fallback: tuple[str, ...] = field(
        default=(),
        converter=_fallback_ids,
        metadata=_meta(
            "fallback: str | Sequence[str] = ()",
            "Model ids to try in turn when this one still fails with a retryable error after its "
            "retries; `response.model` says which answered.",
        ),
    )

    @classmethod
    def from_arguments(
        cls,
        *,
        client: Client | None = None,
        provider_params: Mapping[str, object] | None = None,
        tools: Sequence[AnyTool] | None = None,
        response_model: type[Any] | Format[Any] | None = None,
        max_retries: int = 0,
        continue_on_max_tokens: int = 0,
        retries: int | None = None,
        fallback: str | Sequence[str] = (),
    ) -> CallSettings:
        """The settings as the user-facing keyword arguments give them (checked by `Model`)."""
        return cls(
            **changes_from_arguments(
                {
                    "client": client,
                    "provider_params": provider_params,
                    "tools": tools,
                    "response_model": response_model,
                    "max_retries": max_retries,
                    "continue_on_max_tokens": continue_on_max_tokens,
                    "retries": retries,
                    "fallback": fallback,
                }
            )
        )


PARAMETER_NAMES: frozenset[str] = frozenset(
    f.metadata["param"].partition(":")[0] for f in fields(CallSettings) if "param" in f.metadata
)
"""The settings' keyword arguments, as `llm.call`, `llm.model`, `llm.override` and `llm.context` take them."""


def changes_from_arguments(given: Mapping[str, Any]) -> dict[str, Any]:
    """The `CallSettings` fields that keyword arguments (by their parameter names) set.

    The one translation from what users write to the settings: `tools=` gives `tools` and
    `provider_tools`, `response_model=` gives `format`; the rest keep their names. Only the
    arguments given become changes, so an override changes only what it names.
    """
    changes = dict(given)
    if "tools" in changes:
        changes["tools"], changes["provider_tools"] = split_tools(changes["tools"])
    if "response_model" in changes:
        response_model = changes.pop("response_model")
        changes["format"] = None if response_model is None else format_for(response_model)
    return changes
