"""Tools that return data or content parts: what `execute_tools` makes of them, and their round trip."""

from __future__ import annotations

import dataclasses
import json

import pytest
from mirascope import llm
from mirascope.llm._execute import execute
from mirascope.llm.serialization import from_dict, to_dict

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.4\n" + b"\x00" * 16


def _run(fn: object) -> llm.ToolOutput:
    tool = llm.tool(fn)  # pyright: ignore[reportArgumentType]
    (output,) = execute([tool], [llm.ToolCall(id="c", name=tool.name)])
    return output


@dataclasses.dataclass
class Reading:
    city: str
    celsius: float


def test_a_dict_comes_back_as_json_text_and_as_data() -> None:
    def lookup() -> dict[str, object]:
        return {"city": "Paris", "tags": ["a", "b"], "ok": True}

    output = _run(lookup)

    assert output.value == {"city": "Paris", "tags": ["a", "b"], "ok": True}
    assert json.loads(output.result) == output.value
    assert output.content == ()


def test_a_dataclass_or_a_list_of_them_comes_back_as_data() -> None:
    def readings() -> list[Reading]:
        return [Reading("Paris", 21.5), Reading("Lyon", 19.0)]

    output = _run(readings)

    assert output.value == [{"city": "Paris", "celsius": 21.5}, {"city": "Lyon", "celsius": 19.0}]
    assert json.loads(output.result) == output.value


def test_a_plain_number_or_text_stays_text_only() -> None:
    def seven() -> int:
        return 7

    def hello() -> str:
        return "hello"

    assert _run(seven) == llm.ToolOutput(id="c", name="seven", result="7")
    assert _run(hello) == llm.ToolOutput(id="c", name="hello", result="hello")


def test_an_image_comes_back_as_a_content_part() -> None:
    image = llm.Image.from_bytes(PNG)

    def snapshot() -> llm.Image:
        return image

    output = _run(snapshot)

    assert output.content == (image,)
    assert output.result == ""
    assert output.value is None


def test_text_and_parts_come_back_in_order_with_the_text_as_result() -> None:
    image = llm.Image.from_bytes(PNG)
    document = llm.Document.from_bytes(PDF)

    def report() -> list[object]:
        return ["The chart:", image, llm.Text("and the PDF:"), document]

    output = _run(report)

    assert output.content == (llm.Text("The chart:"), image, llm.Text("and the PDF:"), document)
    assert output.result == "The chart:\nand the PDF:"


def test_text_parts_alone_come_back_as_text() -> None:
    def words() -> list[llm.Text]:
        return [llm.Text("one"), llm.Text("two")]

    assert _run(words) == llm.ToolOutput(id="c", name="words", result="one\ntwo")


def test_a_tool_output_made_by_hand_gets_its_text_from_value_or_content() -> None:
    by_value = llm.ToolOutput(id="c", name="f", value={"a": 1})
    by_parts = llm.ToolOutput(id="c", name="f", content=[llm.Text("see"), llm.Image.from_bytes(PNG)])

    assert by_value.result == '{"a": 1}'
    assert by_parts.result == "see"
    assert isinstance(by_parts.content, tuple)


def test_a_tool_output_refuses_content_that_is_not_a_part() -> None:
    with pytest.raises(llm.UsageError, match="value="):
        llm.ToolOutput(id="c", name="f", content=[{"a": 1}])


def test_tool_outputs_with_parts_and_data_round_trip_through_dicts_and_json() -> None:
    message = llm.messages.user(
        [
            llm.ToolOutput(id="a", name="snap", content=[llm.Text("here"), llm.Image.from_bytes(PNG)]),
            llm.ToolOutput(id="b", name="look", value={"city": "Paris", "n": [1, 2]}),
            llm.ToolOutput(id="c", name="doc", content=[llm.Document.from_url("https://example.com/a.pdf")]),
            llm.ToolOutput(id="d", name="fail", result="no", is_error=True),
        ]
    )

    data = json.loads(json.dumps(to_dict(message)))
    restored = from_dict(llm.Message, data)

    assert restored == message
    assert data["content"][0]["content"][1]["type"] == "image"
    assert data["content"][1]["value"] == {"city": "Paris", "n": [1, 2]}
