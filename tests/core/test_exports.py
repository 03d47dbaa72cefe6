"""The front door: `llm.__all__` is sorted, complete, and names what the API promises."""

from __future__ import annotations

from mirascope import llm

PROMISED = {
    "call", "model", "client", "messages", "Message", "Text", "Image", "Audio", "Video", "Document",
    "CacheControl", "ToolCall", "ToolOutput", "Thought", "CallResponse", "AsyncCallResponse", "Usage",
    "FinishReason", "CallParams", "Thinking", "DynamicConfig", "Model", "Client",
    "Error", "APIError", "AuthenticationError", "PermissionError", "BadRequestError", "NotFoundError",
    "RateLimitError", "ServerError", "TimeoutError", "ConnectionError", "ProviderNotFoundError",
    "MissingAPIKeyError", "FeatureNotSupportedError", "ParseError", "ToolError",
}  # fmt: skip


def test_all_is_sorted_and_every_name_exists() -> None:
    assert llm.__all__ == sorted(llm.__all__)
    for name in llm.__all__:
        assert hasattr(llm, name), name


def test_every_promised_name_is_exported() -> None:
    assert set(llm.__all__) >= PROMISED


def test_every_error_derives_from_llm_error_and_api_errors_from_api_error() -> None:
    api = {"APIError", "AuthenticationError", "PermissionError", "BadRequestError", "NotFoundError", "RateLimitError",
           "ServerError", "TimeoutError", "ConnectionError"}  # fmt: skip
    for name in PROMISED:
        obj = getattr(llm, name)
        if isinstance(obj, type) and name.endswith("Error"):
            assert issubclass(obj, llm.Error)
            assert issubclass(obj, llm.APIError) == (name in api), name


def test_errors_that_shadow_builtins_also_subclass_them() -> None:
    assert issubclass(llm.TimeoutError, TimeoutError)
    assert issubclass(llm.ConnectionError, ConnectionError)
    assert issubclass(llm.PermissionError, PermissionError)
    assert issubclass(llm.ProviderNotFoundError, LookupError)


def test_errors_are_named_as_users_catch_them() -> None:
    assert llm.MissingAPIKeyError.__module__ == "mirascope.llm"
