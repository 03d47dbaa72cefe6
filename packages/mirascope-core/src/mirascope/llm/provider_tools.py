"""Tools the provider runs on its own servers: `llm.WebSearch`.

```python
@llm.call("anthropic:claude-sonnet-4-5", tools=[llm.WebSearch(max_uses=3)])
def ask(question: str) -> str:
    return question

response = ask("What happened in Lisbon yesterday?")
for citation in response.citations:
    print(citation.title, citation.url)
```

They go in `tools=` beside `@llm.tool` functions, but the model never hands them back as
`llm.ToolCall`s: the provider runs them while it writes its reply, and `execute_tools()` has
nothing to do for them. What they did stays in the message's `raw`, which `resume` sends back to
the same provider. Options only some providers take are refused with
`llm.FeatureNotSupportedError` on the others, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from attrs import field, frozen

from .exceptions import UsageError

__all__ = ["ProviderTool", "UserLocation", "WebSearch"]


def _domains(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        # A lone string would otherwise become a tuple of its letters.
        return (value,)
    return tuple(value)


@frozen(kw_only=True)
class UserLocation:
    """Roughly where the user is, so that searches favour local results."""

    city: str | None = None
    """The city, e.g. `"Lisbon"`."""
    region: str | None = None
    """The region or state, e.g. `"Lisboa"` or `"California"`."""
    country: str | None = None
    """The two-letter ISO country code, e.g. `"PT"`."""
    timezone: str | None = None
    """The IANA time zone, e.g. `"Europe/Lisbon"`."""

    def approximate(self) -> dict[str, str]:
        """The `{"type": "approximate", ...}` location OpenAI and Anthropic both take, with the fields given."""
        given = {"city": self.city, "region": self.region, "country": self.country, "timezone": self.timezone}
        return {"type": "approximate", **{key: value for key, value in given.items() if value is not None}}


@frozen(kw_only=True)
class WebSearch:
    """Let the model search the web, on the provider's servers, and cite what it found.

    OpenAI's Responses API (`openai:`), Anthropic and Google (Search grounding) run it; Chat
    Completions (`openai-completions:` and the OpenAI-compatible services) and local models
    refuse it. Each option is taken by at least two providers and refused, before anything is
    sent, by those that lack it:

    | option | OpenAI (Responses) | Anthropic | Google |
    | --- | --- | --- | --- |
    | `max_uses` | yes (`max_tool_calls`) | yes | no |
    | `allowed_domains` | yes | yes | no |
    | `user_location` | yes | yes | no |

    The sources the reply rests on are `response.citations`.
    """

    max_uses: int | None = None
    """The most searches the model may run for one reply; `None` leaves it to the provider."""
    allowed_domains: tuple[str, ...] | None = field(default=None, converter=_domains)
    """Search only these domains (and their subdomains), e.g. `["reuters.com"]`, without
    `https://`; `None` searches the whole web."""
    user_location: UserLocation | None = None
    """Roughly where the user is, for local results."""

    def __attrs_post_init__(self) -> None:
        if self.max_uses is not None and self.max_uses < 1:
            raise UsageError(f"max_uses must be 1 or more, or None for no limit; got {self.max_uses}.")
        if self.allowed_domains is not None and not self.allowed_domains:
            raise UsageError("allowed_domains is empty, which would allow no search; pass None to search everywhere.")


ProviderTool: TypeAlias = WebSearch
"""A tool the provider runs itself (for now, only web search)."""
