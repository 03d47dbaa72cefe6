"""An MCP server's tools, resources and prompts, handed to a model (needs `mirascope[mcp]`).

The server runs in this process, built with the official MCP SDK; a URL or a command reaches one
elsewhere: `llm.mcp.connect("http://127.0.0.1:8000/mcp")`, `llm.mcp.connect(["uvx", "mcp-server-fetch"])`.
"""

import asyncio

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from mirascope import llm

weather = MCPServer("weather", instructions="Answer with the weather get_weather reports.", log_level="WARNING")


@weather.tool(annotations=ToolAnnotations(read_only_hint=True))
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"Sunny, 21 degrees in {city}."


@weather.resource("weather://stations", mime_type="text/plain")
def stations() -> str:
    return "Paris, Lyon, Nice"


@weather.prompt()
def forecast(city: str) -> str:
    """Ask for a forecast."""
    return f"What is the weather in {city}?"


async def main() -> None:
    async with llm.mcp.connect(weather) as server:
        print([tool.name for tool in server.tools], server.tools[0].mcp.read_only)  # ['get_weather'] True
        print(await server.tools[0](city="Lyon"))  # call a tool yourself: Sunny, 21 degrees in Lyon.
        print(await server.read("weather://stations"))  # (Text(text='Paris, Lyon, Nice', ...),)

        # The tool loop: the model asks for get_weather, the server answers, the model replies.
        model = llm.model("anthropic:claude-sonnet-4-5", tools=[*server.tools], max_tokens=300)
        messages = [llm.messages.system(server.instructions or ""), *await server.prompt("forecast", city="Paris")]
        response = await model.call_async(messages)
        while response.tool_calls:
            outputs = await response.execute_tools()
            print("tool:", outputs[0].result)
            response = await response.resume(outputs)
        print(response.content)


asyncio.run(main())

# In sync code, `with` (no `async`) runs the connection on a thread of its own.
with llm.mcp.connect(weather) as server:

    @llm.call("openai:gpt-4o-mini", tools=[*server.tools])
    def ask(city: str) -> str:
        return f"What is the weather in {city}?"

    response = ask("Nice")
    while response.tool_calls:
        outputs = response.execute_tools()  # the tools are called on the connection's thread
        print("tool:", outputs[0].result)
        response = response.resume(outputs)
    print(response.content)
