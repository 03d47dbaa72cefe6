"""OpenTelemetry GenAI semantic-convention names, as our own constants.

The conventions moved to their own repository and `opentelemetry-semantic-conventions` keeps them
in an incubating (unstable) module, so the stable strings are written out here.
"""

from __future__ import annotations

from typing import Final

# Operation and provider.
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"

OPERATION_CHAT: Final = "chat"
OPERATION_EXECUTE_TOOL: Final = "execute_tool"
OPERATION_INVOKE_AGENT: Final = "invoke_agent"

PROVIDER_OPENAI: Final = "openai"
PROVIDER_ANTHROPIC: Final = "anthropic"
PROVIDER_GCP_GEMINI: Final = "gcp.gemini"
PROVIDER_GCP_VERTEX_AI: Final = "gcp.vertex_ai"
PROVIDER_AZURE_AI_OPENAI: Final = "azure.ai.openai"
PROVIDER_AWS_BEDROCK: Final = "aws.bedrock"
PROVIDER_GROQ: Final = "groq"
PROVIDER_DEEPSEEK: Final = "deepseek"
PROVIDER_MISTRAL_AI: Final = "mistral_ai"
PROVIDER_X_AI: Final = "x_ai"

# Request.
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"

# Response.
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"

OUTPUT_TYPE_TEXT: Final = "text"
OUTPUT_TYPE_JSON: Final = "json"

# Usage.
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"

# Tools and agents.
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
TOOL_TYPE_FUNCTION: Final = "function"
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"

# MCP (the conventions' MCP attributes, on the `execute_tool` span of a tool an MCP server runs).
MCP_METHOD_NAME: Final = "mcp.method.name"
MCP_SESSION_ID: Final = "mcp.session.id"
MCP_PROTOCOL_VERSION: Final = "mcp.protocol.version"
MCP_METHOD_TOOLS_CALL: Final = "tools/call"
NETWORK_TRANSPORT: Final = "network.transport"
NETWORK_PROTOCOL_NAME: Final = "network.protocol.name"
MIRASCOPE_MCP_SERVER: Final = "mirascope.mcp.server"
MIRASCOPE_MCP_TOOL: Final = "mirascope.mcp.tool"
"""The tool's own name on its server, where a `prefix=` renamed it for the model."""

# Conversation and content (content only when capture is on).
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"

# General conventions.
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"

# Mirascope's own attributes (no convention exists for them).
MIRASCOPE_COST_USD: Final = "mirascope.response.cost_usd"
MIRASCOPE_MODEL_ID: Final = "mirascope.model_id"
MIRASCOPE_STREAM_CLOSED: Final = "mirascope.stream.closed"
MIRASCOPE_FALLBACK_FROM: Final = "mirascope.fallback_from"
MIRASCOPE_TRACE_ARGUMENTS: Final = "mirascope.trace.arguments"
MIRASCOPE_TRACE_RESULT: Final = "mirascope.trace.result"
MIRASCOPE_FUNCTION: Final = "mirascope.function"
MIRASCOPE_VERSION: Final = "mirascope.version"
MIRASCOPE_VERSION_HASH: Final = "mirascope.version_hash"
MIRASCOPE_VERSION_SOURCE: Final = "mirascope.version_source"
"""Set to `"bytecode"` when the function had no source (REPL, `python -c`) and was hashed from its code object."""

# Events.
EVENT_RETRY: Final = "mirascope.retry"
EVENT_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"

CAPTURE_CONTENT_ENV: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
