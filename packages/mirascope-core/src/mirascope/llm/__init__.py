"""Mirascope: the model-agnostic Python interface for building with LLMs.

```python
from mirascope import llm

@llm.call("openai:gpt-4o-mini")
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book"

print(recommend_book("fantasy").content)
```
"""

from typing import TYPE_CHECKING

from . import messages
from .agents import Agent, AgentContext, AgentStream, AsyncAgent, agent
from .calls import AsyncCall, Call, DynamicConfig, Prompt, call
from .clients import Client, Timeout, client
from .content import (
    Audio,
    CacheControl,
    Citation,
    ContentPart,
    Document,
    Image,
    Text,
    Thought,
    ToolCall,
    ToolOutput,
    Video,
)
from .context import context, override
from .exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConnectionError,
    Error,
    FeatureNotSupportedError,
    MaxStepsError,
    MissingAPIKeyError,
    NotFoundError,
    ParseError,
    PermissionError,
    ProviderNotFoundError,
    RateLimitError,
    ResponseTooLargeError,
    SerializationError,
    ServerError,
    TimeoutError,
    TimeoutPhase,
    ToolError,
    UsageError,
)
from .known_models import KnownModel, ModelInfo, model_info
from .messages import Message
from .models import Model, model
from .params import CallParams, Thinking, ThinkingLevel
from .provider_tools import UserLocation, WebSearch
from .response_models import Format, FormatMode, output_parser, response_model
from .responses import AsyncCallResponse, CallResponse, FinishReason, Usage
from .streams import AsyncStream, Chunk, Stream, ToolCallDelta
from .tools import BaseTool, Context, Tool, tool

if TYPE_CHECKING:
    from . import instrumentation, mcp
    from .batch import BatchJob, batch
    from .realtime import AudioFormat, RealtimeEvent, RealtimeSession, realtime

__all__ = [
    "APIError",
    "Agent",
    "AgentContext",
    "AgentStream",
    "AsyncAgent",
    "AsyncCall",
    "AsyncCallResponse",
    "AsyncStream",
    "Audio",
    "AudioFormat",
    "AuthenticationError",
    "BadRequestError",
    "BaseTool",
    "BatchJob",
    "CacheControl",
    "Call",
    "CallParams",
    "CallResponse",
    "Chunk",
    "Citation",
    "Client",
    "ConnectionError",
    "ContentPart",
    "Context",
    "Document",
    "DynamicConfig",
    "Error",
    "FeatureNotSupportedError",
    "FinishReason",
    "Format",
    "FormatMode",
    "Image",
    "KnownModel",
    "MaxStepsError",
    "Message",
    "MissingAPIKeyError",
    "Model",
    "ModelInfo",
    "NotFoundError",
    "ParseError",
    "PermissionError",
    "Prompt",
    "ProviderNotFoundError",
    "RateLimitError",
    "RealtimeEvent",
    "RealtimeSession",
    "ResponseTooLargeError",
    "SerializationError",
    "ServerError",
    "Stream",
    "Text",
    "Thinking",
    "ThinkingLevel",
    "Thought",
    "Timeout",
    "TimeoutError",
    "TimeoutPhase",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolError",
    "ToolOutput",
    "Usage",
    "UsageError",
    "UserLocation",
    "Video",
    "WebSearch",
    "agent",
    "batch",
    "call",
    "client",
    "context",
    "instrumentation",
    "mcp",
    "messages",
    "model",
    "model_info",
    "output_parser",
    "override",
    "realtime",
    "response_model",
    "tool",
]


# Tracebacks should name errors as users catch them: `mirascope.llm.MissingAPIKeyError`. Only the
# errors: attrs and cattrs resolve other classes' annotations through their real module.
def _name_errors_as_exported() -> None:
    for name in __all__:
        obj = globals().get(name)  # `instrumentation` and `mcp` are loaded on first use (`__getattr__`)
        if isinstance(obj, type) and issubclass(obj, Error):
            obj.__module__ = __name__


_name_errors_as_exported()


_REALTIME = frozenset({"realtime", "AudioFormat", "RealtimeEvent", "RealtimeSession"})


def __getattr__(name: str) -> object:
    # `llm.instrumentation` and `llm.mcp` load on first use: `import llm` does not pay for them
    # (and `llm.mcp` imports the MCP SDK only when it connects).
    if name == "instrumentation" or name == "mcp":
        import importlib  # not `from . import`: that asks this `__getattr__` again

        return importlib.import_module(f"{__name__}.{name}")
    if name in _REALTIME:
        # `llm.realtime` and its types load with the first session: seventeen classes that
        # `import llm` need not pay for. The module itself is callable (`llm.realtime(...)`).
        import importlib

        module = importlib.import_module(f"{__name__}.realtime")
        return module if name == "realtime" else getattr(module, name)
    if name == "batch" or name == "BatchJob":
        # `llm.batch` loads with the first job; the module itself is callable (`llm.batch(...)`).
        import importlib

        module = importlib.import_module(f"{__name__}.batch")
        return module if name == "batch" else module.BatchJob
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
