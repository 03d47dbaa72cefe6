"""How a provider handles each common call parameter: declared as data, enforced by one helper.

Every provider declares, for every `CallParams` key, whether it sends it (and as which body
field), refuses it, or leaves it out with a logged warning. The declaration is the one place
that says so: `check_params` acts on it before anything is encoded, the provider READMEs' tables
are drawn from it, and a test holds every provider's declaration to `CallParams`, so a key
added there cannot be dropped silently by a provider nobody taught it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, TypeAlias

from attrs import frozen

if TYPE_CHECKING:
    from ..exceptions import FeatureNotSupportedError
    from . import Request

__all__ = ["ParamAction", "ParamHandling", "check_params", "refusal", "warn_ignored"]

ParamAction: TypeAlias = Literal["send", "warn", "refuse"]
"""Send the parameter; leave it out with a logged warning; refuse it before sending."""


@frozen
class ParamHandling:
    """What a provider does with one `CallParams` key (build with `send`, `warn` or `refuse`)."""

    action: ParamAction
    """What happens when a call gives the parameter."""
    wire: str = ""
    """For `send`: the body field it is sent as, a dotted path (`generationConfig.topK`)."""
    why: str = ""
    """For `warn` and `refuse`: why the provider lacks it, and what to do instead."""
    note: str = ""
    """Where some models are handled otherwise (a reasoning model that refuses `temperature`):
    the encoder decides those per model; this says so in the README's table."""

    @classmethod
    def send(cls, wire: str, *, note: str = "") -> ParamHandling:
        """Sent as the body field `wire`."""
        return cls("send", wire=wire, note=note)

    @classmethod
    def warn(cls, why: str, *, note: str = "") -> ParamHandling:
        """Left out with a warning on the `mirascope` logger: only where leaving it out is harmless."""
        return cls("warn", why=why, note=note)

    @classmethod
    def refuse(cls, why: str, *, note: str = "") -> ParamHandling:
        """Refused with `llm.FeatureNotSupportedError` before anything is sent."""
        return cls("refuse", why=why, note=note)

    def describe(self) -> str:
        """The handling in words, as a README's parameter table gives it (Markdown)."""
        if self.action == "send":
            text = f"`{self.wire}`"
        elif self.action == "warn":
            text = f"left out with a logged warning: {self.why}"
        else:
            text = f"refused (`llm.FeatureNotSupportedError`): {self.why}"
        return f"{text}; {self.note}" if self.note else text


def check_params(request: Request, parameters: Mapping[str, ParamHandling]) -> None:
    """Refuse or warn about the request's parameters as the provider's declaration says.

    Called by each provider before it encodes a request; the encoder then sends the `send`
    parameters. A parameter the declaration does not name is refused rather than dropped.

    Raises:
        FeatureNotSupportedError: A parameter declared `refuse`, or not declared at all.
    """
    params = request.params
    if not params:
        return  # the common case: no work
    for key in params:
        handling = parameters.get(key)
        if handling is None:
            raise refusal(
                request,
                key,
                "this provider does not declare how it handles it (a parameter newer than the provider "
                "package?); upgrade the provider package, or call without it",
            )
        if handling.action == "refuse":
            raise refusal(request, key, handling.why)
        if handling.action == "warn":
            warn_ignored(request.model_id, key, handling.why)


def refusal(request: Request, feature: str, why: str) -> FeatureNotSupportedError:
    """The error for a part, parameter or setting the request's model cannot take.

    `feature` names what is refused (`"seed"`, `"thinking='high'"`, `"Video"`); `why` says why
    and what to do instead. Raise it before anything is sent.
    """
    from ..exceptions import FeatureNotSupportedError

    end = "" if why.endswith((".", "!", "?")) else "."
    return FeatureNotSupportedError(
        f"{request.model_id} cannot take {feature}: {why}{end}", model=request.model_id, feature=feature
    )


_warned: set[tuple[str, str]] = set()
"""The (provider, parameter) pairs already warned about in this process."""


def warn_ignored(model_id: str, param: str, reason: str) -> None:
    """Log that a parameter was left out because the model cannot take it, once per provider and parameter.

    Used only where leaving it out is harmless; anything else raises
    `llm.FeatureNotSupportedError`. A log record, not a `warnings.warn`, so that a test suite
    running with warnings as errors is not broken by a documented, harmless omission; once per
    process for each provider and parameter, so that a loop of calls does not flood the log.
    """
    key = (model_id.partition(":")[0], param)
    if key in _warned:
        return
    _warned.add(key)
    import logging  # only when a parameter is left out: not at import

    logging.getLogger("mirascope").warning("%s does not support %s (%s); it was not sent.", model_id, param, reason)
