"""`llm.mcp`: any MCP server's tools, resources and prompts as llm values, against real servers.

Servers are built with the official SDK (`MCPServer`) and reached as users reach them: in
memory, over stdio (a subprocess, `tests/support/mcp_servers.py`), and over streamable HTTP and
SSE on 127.0.0.1. The tool loop is replayed on every provider from the recorded tool-call
fixtures, with the tool answered by a real MCP server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp
import pytest
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError as ServerToolError
from mcp.types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
    ToolAnnotations,
)
from mirascope import llm
from mirascope.llm.settings import CallSettings
from pydantic import BaseModel

from tests.support.fixtures import REPO, find, load
from tests.support.mcp_servers import secrets_server, serving
from tests.support.meaning import comparable
from tests.support.replay import ReplayServer
from tests.support.scenarios import SECRETS, client_for, messages_for, model_id_for

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
PDF = b"%PDF-1.4\n%%EOF\n"
MP3 = b"ID3" + bytes(29)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Point(BaseModel):
    x: int
    y: int


def calc_server() -> MCPServer:
    server = MCPServer("calc", instructions="Add with add.")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True))
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool(annotations=ToolAnnotations(destructive_hint=True))
    def reset() -> str:
        """Forget everything."""
        return "reset"

    @server.tool()
    def centroid(points: list[Point]) -> Point:
        """The middle of some points."""
        return Point(x=sum(p.x for p in points) // len(points), y=sum(p.y for p in points) // len(points))

    @server.tool()
    def evens(upto: int) -> list[int]:
        """The even numbers below `upto`."""
        return list(range(0, upto, 2))

    @server.tool()
    def check(passphrase: str) -> str:
        """Check a passphrase."""
        if passphrase != "cake":
            raise ServerToolError("Incorrect passphrase: the correct passphrase is 'cake'. Try again.")
        return "The cake is a lie."

    @server.tool()
    async def hang() -> str:
        """Never answer."""
        await anyio.sleep_forever()
        return "never"

    @server.tool()
    def huge() -> str:
        """Far too much text."""
        return "x" * 50_000

    @server.tool(structured_output=False)
    def media() -> CallToolResult:
        """Text, an image and a clip."""
        return CallToolResult(
            content=[
                TextContent(text="A chart:"),
                ImageContent(data=_b64(PNG), mime_type="image/png"),
                AudioContent(data=_b64(MP3), mime_type="audio/mpeg"),
                TextContent(text="and its sound."),
            ]
        )

    @server.tool(structured_output=False)
    def texts() -> CallToolResult:
        """Two paragraphs."""
        return CallToolResult(content=[TextContent(text="first"), TextContent(text="second")])

    @server.tool(structured_output=False)
    def files() -> CallToolResult:
        """Embedded files and a link."""
        return CallToolResult(
            content=[
                EmbeddedResource(resource=TextResourceContents(uri="file:///notes.txt", text="the notes")),
                EmbeddedResource(
                    resource=BlobResourceContents(uri="file:///report.pdf", blob=_b64(PDF), mime_type="application/pdf")
                ),
                EmbeddedResource(
                    resource=BlobResourceContents(uri="file:///data.bin", blob=_b64(b"\x00\x01"), mime_type="x/y")
                ),
                ResourceLink(uri="file:///more.txt", name="more", description="more notes"),
            ]
        )

    @server.tool(structured_output=False)
    def bad_media() -> CallToolResult:
        """Media whose data or type is wrong."""
        return CallToolResult(
            content=[
                ImageContent(data="not base64 at all!", mime_type="image/png"),
                ImageContent(data=_b64(PNG), mime_type="application/octet-stream"),
                ImageContent(data=_b64(b"plain words"), mime_type="text/plain"),
            ]
        )

    @server.resource("notes://today", mime_type="text/plain", description="Today's notes")
    def notes() -> str:
        return "Buy milk."

    @server.resource("images://logo", mime_type="image/png")
    def logo() -> bytes:
        return PNG

    @server.prompt()
    def review(code: str, strict: bool = False) -> str:
        """Review some code."""
        return f"Review this{' strictly' if strict else ''}: {code}"

    return server


def _response(tools: tuple[llm.Tool[..., Any], ...], *calls: llm.ToolCall) -> llm.AsyncCallResponse[str]:
    reply = llm.Message(role="assistant", content=calls)
    return llm.AsyncCallResponse(
        messages=(llm.messages.user("go"), reply),
        model="acme:m",
        finish_reason="tool_call",
        settings=CallSettings.from_arguments(tools=tools),
    )


def _call(name: str, call_id: str = "c1", **args: object) -> llm.ToolCall:
    return llm.ToolCall(id=call_id, name=name, args=dict(args))


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# --- loading --------------------------------------------------------------------------------


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout


def test_llm_loads_without_the_sdk_and_llm_mcp_loads_it_only_to_connect() -> None:
    out = _python(
        "import sys\nfrom mirascope import llm\nprint('mcp' in sys.modules)\n"
        "llm.mcp.connect\nprint('mcp' in sys.modules, 'mirascope.llm.mcp' in sys.modules)"
    )
    assert out.split() == ["False", "False", "True"]


def test_connecting_without_the_sdk_names_the_extra_to_install() -> None:
    out = _python(
        "import sys\nsys.modules['mcp'] = None  # as if the extra were not installed\n"
        "from mirascope import llm\n"
        "try:\n    llm.mcp.connect('http://127.0.0.1:1/mcp')\n"
        "except llm.mcp.MCPNotInstalledError as e:\n    print(isinstance(e, (llm.Error, ImportError)), e)"
    )
    assert out.startswith("True llm.mcp needs the MCP SDK 2.x (mcp>=2,<3)")
    assert '"mirascope[mcp]' in out


# --- tools in memory ------------------------------------------------------------------------


def test_tools_are_llm_tools_keeping_the_servers_schemas_descriptions_and_annotations() -> None:
    server = calc_server()

    async def run() -> tuple[Any, tuple[llm.mcp.MCPTool, ...]]:
        async with mcp.Client(server) as sdk:
            listed = (await sdk.list_tools()).tools
        async with llm.mcp.connect(server) as connected:
            return listed, connected.tools

    listed, tools = _run(run())
    assert [tool.name for tool in tools] == [tool.name for tool in listed]
    for tool, original in zip(tools, listed, strict=True):
        assert isinstance(tool, llm.Tool)
        assert tool.parameters == original.input_schema  # verbatim
        assert tool.description == (original.description or None)
        assert not tool.strict
    add, reset, centroid = tools[:3]
    assert "$defs" in centroid.parameters
    assert centroid.parameters["$defs"]["Point"]["required"] == ["x", "y"]
    assert add.mcp == llm.mcp.MCPToolInfo(
        server="calc",
        name="add",
        annotations={"readOnlyHint": True, "idempotentHint": True},
        output_schema=listed[0].output_schema,
        transport="memory",
        protocol_version="2026-07-28",
    )
    assert add.mcp.read_only
    assert not reset.mcp.read_only
    assert reset.mcp.annotations == {"destructiveHint": True}


def test_a_prefix_names_the_tool_for_the_model_while_the_server_is_called_by_its_own_name() -> None:
    async def run() -> list[llm.ToolOutput]:
        async with llm.mcp.connect(calc_server(), prefix="calc") as calc:
            assert [tool.name for tool in calc.tools][:2] == ["calc_add", "calc_reset"]
            assert calc.tools[0].mcp.name == "add"
            return await _response(calc.tools, _call("calc_add", a=2, b=3)).execute_tools()

    assert _run(run()) == [llm.ToolOutput(id="c1", name="calc_add", result="5")]


def test_include_exclude_and_read_only_choose_the_tools_by_their_names_on_the_server() -> None:
    async def names(**options: Any) -> list[str]:
        async with llm.mcp.connect(calc_server(), **options) as calc:
            return [tool.name for tool in calc.tools]

    assert _run(names(include=["add", "reset"])) == ["add", "reset"]
    assert "reset" not in _run(names(exclude=["reset"]))
    assert _run(names(read_only=True)) == ["add"]
    assert _run(names(read_only=True, prefix="c")) == ["c_add"]


def test_naming_a_tool_the_server_does_not_have_is_refused_with_its_tools() -> None:
    async def run() -> None:
        async with llm.mcp.connect(calc_server(), include=["ad"]):
            pass

    with pytest.raises(llm.UsageError, match=r"include= names tools the MCP server 'calc' does not have: 'ad'; its"):
        _run(run())


def test_structured_results_are_preferred_and_unwrapped_when_the_server_wrapped_them() -> None:
    async def run() -> list[llm.ToolOutput]:
        async with llm.mcp.connect(calc_server()) as calc:
            response = _response(
                calc.tools,
                _call("add", "c1", a=1, b=2),
                _call("centroid", "c2", points=[{"x": 0, "y": 0}, {"x": 4, "y": 2}]),
                _call("evens", "c3", upto=5),
            )
            return await response.execute_tools()

    added, centroid, evens = _run(run())
    assert (added.result, added.value) == ("3", None)  # {"result": 3} unwrapped: a number reads as text
    assert (centroid.value, json.loads(centroid.result)) == ({"x": 2, "y": 1}, {"x": 2, "y": 1})
    assert (evens.value, evens.result) == ([0, 2, 4], "[0, 2, 4]")
    assert not any(output.is_error for output in (added, centroid, evens))


def test_text_is_joined_and_images_audio_and_documents_go_back_as_parts() -> None:
    async def run() -> list[llm.ToolOutput]:
        async with llm.mcp.connect(calc_server()) as calc:
            response = _response(calc.tools, _call("texts", "c1"), _call("media", "c2"), _call("files", "c3"))
            return await response.execute_tools()

    texts, media, files = _run(run())
    assert (texts.result, texts.content) == ("first\nsecond", ())
    assert media.content == (
        llm.Text("A chart:"),
        llm.Image(mime_type="image/png", data=_b64(PNG)),
        llm.Audio(mime_type="audio/mpeg", data=_b64(MP3)),
        llm.Text("and its sound."),
    )
    assert media.result == "A chart:\nand its sound."
    assert files.content == (
        llm.Text("the notes"),
        llm.Document(mime_type="application/pdf", data=_b64(PDF)),
        llm.Text("[resource file:///data.bin (x/y, 2 bytes) left out: not text or media a model reads]"),
        llm.Text("[resource more at file:///more.txt: more notes]"),
    )


def test_media_whose_data_or_type_is_wrong_becomes_a_note_or_is_read_from_its_bytes() -> None:
    async def run() -> Any:
        async with llm.mcp.connect(calc_server()) as calc:
            [tool] = [tool for tool in calc.tools if tool.name == "bad_media"]
            return await tool()

    assert _run(run()) == [
        llm.Text("[image (image/png) left out: its data is not valid base64]"),
        llm.Image(mime_type="image/png", data=_b64(PNG)),  # the bytes say what the server did not
        llm.Text("[image left out: 'text/plain' is not a image media type]"),
    ]


def test_an_is_error_result_reaches_the_model_as_a_failure_and_the_loop_goes_on() -> None:
    async def run() -> tuple[list[llm.ToolOutput], BaseException]:
        async with llm.mcp.connect(calc_server()) as calc:
            response = _response(calc.tools, _call("check", "c1", passphrase="pie"), _call("add", "c2", a=1, b=1))
            outputs = await response.execute_tools()
            check = next(tool for tool in calc.tools if tool.name == "check")
            with pytest.raises(llm.mcp.MCPToolError) as raised:
                await check(passphrase="pie")
            return outputs, raised.value

    outputs, error = _run(run())
    said = "Error executing tool check: Incorrect passphrase: the correct passphrase is 'cake'. Try again."
    assert outputs == [
        llm.ToolOutput(id="c1", name="check", result=said, is_error=True),  # the server's own words
        llm.ToolOutput(id="c2", name="add", result="2"),
    ]
    assert isinstance(error, llm.mcp.MCPToolError)
    assert isinstance(error, llm.ToolError)
    assert (str(error), error.server, error.tool, error.content) == (said, "calc", "check", (llm.Text(said),))


def test_huge_output_is_cut_with_a_marker_saying_how_much() -> None:
    async def run() -> list[llm.ToolOutput]:
        async with llm.mcp.connect(calc_server(), max_output_chars=1000) as calc:
            return await _response(calc.tools, _call("huge")).execute_tools()

    [output] = _run(run())
    assert output.result == "x" * 1000 + "\n[... 49000 more characters cut: the output is longer than 1000]"


def test_a_call_past_its_timeout_is_a_typed_timeout_and_the_server_keeps_answering() -> None:
    async def run() -> tuple[list[llm.ToolOutput], BaseException]:
        async with llm.mcp.connect(calc_server(), timeout=0.2) as calc:
            hang = next(tool for tool in calc.tools if tool.name == "hang")
            with pytest.raises(llm.mcp.MCPTimeoutError) as raised:
                await hang()
            outputs = await _response(calc.tools, _call("hang", "c1"), _call("add", "c2", a=2, b=2)).execute_tools()
            return outputs, raised.value

    outputs, error = _run(run())
    assert isinstance(error, TimeoutError)
    assert isinstance(error, llm.ToolError)
    message = (
        "The MCP server 'calc' did not answer the call to 'hang' within 0.2 s "
        "(llm.mcp.connect(..., timeout=) sets the limit)."
    )
    assert str(error) == message
    assert outputs == [
        llm.ToolOutput(id="c1", name="hang", result=message, is_error=True),
        llm.ToolOutput(id="c2", name="add", result="4"),
    ]


def _misbehaving_server() -> MCPServer:
    async def misbehave(ctx: Any, call_next: Any) -> Any:
        # A server may send anything: these answers are not valid MCP.
        name = (ctx.params or {}).get("name")
        if ctx.method == "tools/call" and name == "unknown_part":
            return {"content": [{"type": "hologram", "data": "?"}]}
        if ctx.method == "tools/call" and name == "not_a_list":
            return {"content": "text where a list belongs"}
        result = await call_next(ctx)
        if ctx.method == "tools/list":
            listed = result.model_dump(by_alias=True, exclude_none=True) if hasattr(result, "model_dump") else result
            for tool in listed["tools"]:
                if tool["name"] == "rows":  # a schema that points at a document no provider fetches
                    tool["inputSchema"]["properties"] = {"row": {"$ref": "https://example.com/row.json"}}
                if tool["name"] == "cells":  # and one that points at a part of itself that is not there
                    tool["inputSchema"]["properties"] = {"cell": {"$ref": "#/$defs/Cell"}}
            return listed
        return result

    server = MCPServer("odd", middleware=[misbehave])

    @server.tool()
    def unknown_part() -> str:
        return "fine"

    @server.tool()
    def not_a_list() -> str:
        return "fine"

    @server.tool()
    def rows() -> str:
        return "fine"

    @server.tool()
    def cells() -> str:
        return "fine"

    @server.tool(name="files.read")
    def files_read() -> str:
        return "fine"

    return server


def test_a_result_that_is_not_valid_mcp_is_a_typed_tool_error_naming_the_server() -> None:
    async def run() -> list[llm.ToolOutput]:
        async with llm.mcp.connect(_misbehaving_server(), include=["unknown_part", "not_a_list"]) as odd:
            for tool in odd.tools:
                with pytest.raises(llm.mcp.MCPToolError, match=r"^The MCP server 'odd' answered the call to"):
                    await tool()
            return await _response(odd.tools, _call("unknown_part", "c1"), _call("not_a_list", "c2")).execute_tools()

    outputs = _run(run())
    assert [output.is_error for output in outputs] == [True, True]
    assert outputs[0].result.startswith("The MCP server 'odd' answered the call to 'unknown_part' with a result that")
    assert "content" in outputs[1].result


def test_a_schema_or_name_no_provider_takes_is_refused_before_any_request() -> None:
    async def run() -> None:
        async with llm.mcp.connect(_misbehaving_server()) as odd:
            [rows, cells, files_read] = odd.tools[2:]
            with pytest.raises(llm.UsageError) as raised:
                llm.model("openai:gpt-4o-mini", tools=[rows])
            assert str(raised.value) == (
                "The tool 'rows' (from the MCP server 'odd') cannot be offered: its schema refers to "
                "'https://example.com/row.json', outside it, which no provider fetches. Leave it out: "
                "llm.mcp.connect(..., exclude=['rows'])."
            )
            with pytest.raises(
                llm.UsageError, match=r"refers to '#/\$defs/Cell', which is not in it.*exclude=\['cells'\]"
            ):
                llm.call("anthropic:claude-sonnet-4-5", tools=[cells])
            with pytest.raises(llm.UsageError, match=r"'files.read' \(from the MCP server 'odd'\) is not one every"):
                llm.model("google:gemini-2.5-flash", tools=[files_read])
            llm.model("openai:gpt-4o-mini", tools=[odd.tools[0]])  # the others are fine

    _run(run())


def test_clashing_names_from_two_servers_are_refused_suggesting_a_prefix() -> None:
    async def run() -> None:
        async with llm.mcp.connect(calc_server()) as first, llm.mcp.connect(calc_server(), name="calc2") as second:
            with pytest.raises(llm.UsageError) as raised:
                llm.model("openai:gpt-4o-mini", tools=[*first.tools, *second.tools])
            assert str(raised.value).startswith(
                "Two MCP servers, 'calc' and 'calc2', both have a tool named 'add', and a call's tools need "
                "distinct names: connect one with a prefix, e.g. llm.mcp.connect(..., prefix='calc2') names its "
                "tool 'calc2_add'."
            )
            with pytest.raises(llm.UsageError, match=r"tools= lists the tool 'add' twice"):
                llm.model("openai:gpt-4o-mini", tools=[first.tools[0], first.tools[0]])

        async with llm.mcp.connect(calc_server()) as first, llm.mcp.connect(calc_server(), prefix="other") as second:
            llm.model("openai:gpt-4o-mini", tools=[*first.tools, *second.tools])

    _run(run())


def test_a_plain_tool_clashing_with_a_server_tool_is_refused_too() -> None:
    @llm.tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    async def run() -> None:
        async with llm.mcp.connect(calc_server()) as calc:
            with pytest.raises(
                llm.UsageError, match=r"one of them from the MCP server 'calc': connect it with a prefix"
            ):
                llm.model("openai:gpt-4o-mini", tools=[add, *calc.tools])

    _run(run())
    with pytest.raises(llm.UsageError, match=r"two different tools named 'add': rename one"):
        llm.model("openai:gpt-4o-mini", tools=[add, llm.tool(name="add")(lambda: 0)])


def test_the_tool_list_is_listed_again_when_the_server_says_it_changed() -> None:
    server = MCPServer("grows")

    @server.tool()
    async def grow(ctx: Context) -> str:
        """Add a tool."""
        server.add_tool(lambda text: text, name="echo", description="Echo.")
        await ctx.notify_tools_changed()
        return "grown"

    async def run() -> list[str]:
        async with llm.mcp.connect(server) as grows:
            assert [tool.name for tool in grows.tools] == ["grow"]
            await grows.tools[0]()
            with anyio.fail_after(5):
                while len(grows.tools) < 2:  # listed again in the background, on the server's word
                    await anyio.sleep(0)
            echo = grows.tools[1]
            return [echo.name, await echo(text="hi")]

    assert _run(run()) == ["echo", "hi"]


def test_resources_read_as_parts_prompts_as_messages_and_instructions_as_text() -> None:
    async def run() -> tuple[Any, ...]:
        async with llm.mcp.connect(calc_server()) as calc:
            with pytest.raises(llm.mcp.MCPError, match=r"could not read 'notes://nowhere'"):
                await calc.read("notes://nowhere")
            return (
                calc.instructions,
                calc.resources,
                await calc.read("notes://today"),
                await calc.read("images://logo"),
                calc.prompts,
                await calc.prompt("review", code="x = 1", strict=True),
            )

    instructions, resources, notes, logo, prompts, messages = _run(run())
    assert instructions == "Add with add."
    assert resources == (
        llm.mcp.Resource(uri="notes://today", name="notes", description="Today's notes", mime_type="text/plain"),
        llm.mcp.Resource(uri="images://logo", name="logo", mime_type="image/png"),
    )
    assert notes == (llm.Text("Buy milk."),)
    assert logo == (llm.Image(mime_type="image/png", data=_b64(PNG)),)
    assert prompts == (
        llm.mcp.Prompt(
            name="review",
            description="Review some code.",
            arguments=(llm.mcp.PromptArgument(name="code", required=True), llm.mcp.PromptArgument(name="strict")),
        ),
    )
    assert messages == [llm.messages.user("Review this strictly: x = 1")]


def test_a_tool_used_after_its_connection_closed_says_to_use_it_inside_the_block() -> None:
    async def run() -> Any:
        async with llm.mcp.connect(calc_server()) as calc:
            pass
        return await _response(calc.tools, _call("add", a=1, b=1)).execute_tools()

    [output] = _run(run())
    assert output.is_error
    assert output.result.startswith("The connection to the MCP server 'calc' is closed: use the server inside its")


def test_a_target_connect_does_not_take_is_refused_saying_what_it_takes() -> None:
    with pytest.raises(llm.UsageError, match=r"a command as a list \(\['uvx', 'mcp-server-fetch'\]\)"):
        llm.mcp.connect("uvx mcp-server-fetch")
    with pytest.raises(llm.UsageError, match=r"got int"):
        llm.mcp.connect(42)
    with pytest.raises(llm.UsageError, match=r"headers= is for a URL target"):
        llm.mcp.connect(calc_server(), headers={"x": "y"})
    with pytest.raises(llm.UsageError, match=r"timeout= takes seconds"):
        llm.mcp.connect(calc_server(), timeout=0)


# --- the tool loop on every provider, replayed, with the tool on a real MCP server -----------------

CASES = find(("test_call_with_tools",), ("sync", "async"))


def _without_tools(body: dict[str, Any]) -> Any:
    return comparable({key: value for key, value in body.items() if key != "tools"})


def _offered(body: dict[str, Any]) -> dict[str, Any]:
    """The definition of `secret_retrieval_tool` among a request's tools, in any provider's shape."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("name") == "secret_retrieval_tool":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body["tools"])
    [definition] = found
    return definition


@pytest.mark.parametrize("path", CASES)
def test_the_tool_loop_runs_on_every_provider_with_the_tool_answered_by_an_mcp_server(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    exchanges = fixture["exchanges"]
    messages = messages_for(fixture, tmp_path)
    client = client_for(fixture, replay_server.url)
    server = secrets_server()

    with replay_server.replaying([exchange["response"] for exchange in exchanges]) as session:
        if Path(path).stem == "async":

            async def run() -> tuple[Any, list[llm.ToolOutput], Any, Any]:
                async with llm.mcp.connect(server, include=["secret_retrieval_tool"]) as secrets, client:
                    model = llm.model(model_id_for(fixture), client=client, tools=[*secrets.tools])
                    first = await model.call_async(messages)
                    outputs = await first.execute_tools()
                    return first, outputs, await first.resume(outputs), secrets.tools[0]

            first, outputs, final, tool = _run(run())
        else:
            with llm.mcp.connect(server, include=["secret_retrieval_tool"]) as secrets, client:
                model = llm.model(model_id_for(fixture), client=client, tools=[*secrets.tools])
                first = model.call(messages)
                outputs = first.execute_tools()  # sync code: the connection's own thread runs the calls
                final = first.resume(outputs)
                tool = secrets.tools[0]

    assert sorted(str(call.args["password"]) for call in first.tool_calls) == sorted(SECRETS)
    assert [output.id for output in outputs] == [call.id for call in first.tool_calls]
    assert {output.result for output in outputs} == set(SECRETS.values())
    assert not any(output.is_error for output in outputs)
    assert len(session.requests) == 2
    for sent, exchange in zip(session.requests, exchanges, strict=True):
        # The requests are the recorded ones but for the tool's definition, which is the server's.
        assert _without_tools(sent.json()) == _without_tools(exchange["request"]["json"])
        definition = _offered(sent.json())
        assert definition.get("description") == "A tool that requires a password to retrieve a secret."
        schema = next(
            definition[key] for key in ("parameters", "input_schema", "parametersJsonSchema") if key in definition
        )
        assert schema == tool.parameters
    for text in fixture["scenario"]["expected"]["text_contains"]:
        assert text in final.content


COMPLETIONS_CASE = "test_call_with_tools/openai_gpt_4o_completions/sync.json"


def _recorded_loop_checks(session: Any, fixture: dict[str, Any]) -> None:
    second = session.requests[1].json()
    sent_outputs = sorted(m["content"] for m in second["messages"] if m.get("role") == "tool")
    assert sent_outputs == sorted(SECRETS.values())
    assert len(session.requests) == len(fixture["exchanges"])


def test_mcp_tools_serve_sync_and_async_prompt_functions_and_an_agent(replay_server: ReplayServer) -> None:
    fixture = load(COMPLETIONS_CASE)
    replies = [exchange["response"] for exchange in fixture["exchanges"]]
    question = fixture["scenario"]["messages"][-1]["content"]
    client = client_for(fixture, replay_server.url)

    with replay_server.replaying(replies) as session, llm.mcp.connect(secrets_server()) as secrets:

        @llm.call("openai-completions:gpt-4o", client=client, tools=[*secrets.tools])
        def ask(question: str) -> str:
            return question

        first = ask(question)
        first.resume(first.execute_tools())
    _recorded_loop_checks(session, fixture)

    async def run_async() -> Any:
        async with llm.mcp.connect(secrets_server(), read_only=True) as secrets:

            @llm.call("openai-completions:gpt-4o", client=client, tools=[*secrets.tools])
            async def ask(question: str) -> str:
                return question

            first = await ask(question)
            return await first.resume(await first.execute_tools())

    with replay_server.replaying(replies) as session:
        _run(run_async())
    _recorded_loop_checks(session, fixture)

    with replay_server.replaying(replies) as session, llm.mcp.connect(secrets_server()) as secrets:

        @llm.agent(model="openai-completions:gpt-4o", client=client, tools=[*secrets.tools])
        def keeper() -> str:
            return secrets.instructions or ""

        final = keeper(question)
    _recorded_loop_checks(session, fixture)
    assert final.finish_reason == "stop"
    assert session.requests[0].json()["messages"][0]["content"] == secrets_server().instructions


# --- other transports ------------------------------------------------------------------------


def _stdio() -> mcp.StdioServerParameters:
    return mcp.StdioServerParameters(command=sys.executable, args=["-m", "tests.support.mcp_servers"], cwd=REPO)


@pytest.mark.slow  # a fresh interpreter that imports the SDK: about a second
def test_over_stdio_a_server_that_exits_mid_call_is_a_typed_error_and_other_servers_keep_working() -> None:
    async def run() -> tuple[Any, ...]:
        stdio = llm.mcp.connect(_stdio(), include=["secret_retrieval_tool", "exit_now"])
        async with stdio as secrets, llm.mcp.connect(calc_server()) as calc:
            assert secrets.transport == "stdio"
            assert secrets.tools[0].mcp.transport == "stdio"
            answered = await secrets.tools[0](password="mellon")
            tools = (*secrets.tools, *calc.tools[:1])
            outputs = await _response(tools, _call("exit_now", "c1"), _call("add", "c2", a=2, b=3)).execute_tools()
            after = await _response(tools, _call("secret_retrieval_tool", "c3", password="mellon")).execute_tools()
            return answered, outputs, after

    answered, outputs, after = _run(run())
    assert answered == "Welcome to Moria!"
    died = (
        "The MCP server 'secrets' closed the connection during the call to 'exit_now': it exited or went away, so "
        "its tools cannot be called until it is connected again."
    )
    assert outputs == [
        llm.ToolOutput(id="c1", name="exit_now", result=died, is_error=True),
        llm.ToolOutput(id="c2", name="add", result="5"),
    ]
    assert after[0].is_error
    assert "'secrets'" in after[0].result


@pytest.mark.slow  # a fresh interpreter that imports the SDK: about a second
def test_a_command_list_runs_the_server_over_stdio_for_sync_code() -> None:
    command = [sys.executable, "-m", "tests.support.mcp_servers"]
    with llm.mcp.connect(_stdio(), name="vault") as vault:
        assert vault.name == "vault"
        assert "mcp_servers" in repr(llm.mcp.connect(command))
        [tool] = [tool for tool in vault.tools if tool.name == "add"]
        assert tool(a=20, b=22) == 42  # a plain value in sync code
        assert tool.mcp.server == "vault"


@pytest.fixture
def http_server() -> Iterator[str]:
    with serving(secrets_server().streamable_http_app()) as url:
        yield url


def test_over_streamable_http_on_localhost(http_server: str) -> None:
    async def run() -> tuple[Any, ...]:
        async with llm.mcp.connect(http_server + "/mcp", timeout=5) as secrets:
            tool = secrets.tools[0]
            return secrets.transport, tool.mcp.transport, secrets.name, await tool(password="radiance")

    assert _run(run()) == ("streamable-http", "streamable-http", "secrets", "Life before Death")


def test_a_server_that_speaks_only_sse_is_reached_by_falling_back_from_streamable_http() -> None:
    with serving(secrets_server().sse_app(sse_path="/events")) as url:

        async def run() -> tuple[Any, ...]:
            async with llm.mcp.connect(url + "/events") as secrets:
                tool = secrets.tools[0]
                return secrets.transport, tool.mcp.session_id, await tool(password="mellon")

        transport, session_id, answer = _run(run())
    assert (transport, answer) == ("sse", "Welcome to Moria!")
    assert session_id  # the session the SSE server opened, for tracing


def test_a_server_that_cannot_be_reached_is_a_connection_error_without_the_credentials(
    http_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def connect(url: str) -> None:
        async with llm.mcp.connect(url, headers={"Authorization": "Bearer header-secret-789"}):
            pass

    caplog.set_level(logging.DEBUG)
    secrets = ("pass-word-123", "query-secret-456", "header-secret-789")
    nobody = "http://user:pass-word-123@127.0.0.1:1/mcp?token=query-secret-456"
    refusing = http_server.replace("http://", "http://user:pass-word-123@") + "/nowhere?token=query-secret-456"
    for url, message in (
        (nobody, "Could not connect to the MCP server '127.0.0.1:1' (streamable-http): All connection attempts failed"),
        (refusing, "it refused streamable HTTP (Not Found), and SSE failed too (Client error '404 Not Found' for url"),
    ):
        with pytest.raises(llm.mcp.MCPConnectionError) as raised:
            _run(connect(url))
        assert isinstance(raised.value, ConnectionError)
        shown = f"{raised.value} {raised.value!r} {raised.value.__cause__} {raised.value.__cause__!r}"
        assert message in shown
        for secret in secrets:
            assert secret not in shown
    # The SDK's HTTP client logs each request's URL, and its transports the server's: redacted too.
    assert any("[redacted]" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        for secret in secrets:
            assert secret not in record.getMessage()
