"""Prebuilt MCP servers: `mirascope.mcp.servers.<name>`, each runnable standalone."""
