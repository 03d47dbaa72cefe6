"""Typed errors say what to do: here, an unknown provider and an unsupported part."""

from mirascope import llm

try:
    llm.model("opnai:gpt-4o-mini").call("Hi")
except llm.ProviderNotFoundError as error:
    print(error)

try:
    llm.model("openai:gpt-4o-mini").call([llm.messages.user(["Transcribe:", llm.Audio.from_bytes(b"ID3" + bytes(16))])])
except llm.FeatureNotSupportedError as error:
    print(error)
