"""The parts a message is made of: text, media, tool calls and outputs, thoughts."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Literal, Self, TypeAlias, cast

from attrs import field, frozen

from .exceptions import UsageError

__all__ = [
    "Audio",
    "CacheControl",
    "Citation",
    "ContentPart",
    "Document",
    "Image",
    "Text",
    "Thought",
    "ToolCall",
    "ToolOutput",
    "ToolOutputPart",
    "Video",
]


@frozen(kw_only=True)
class Citation:
    """A source the model cited for a span of its reply (see `llm.WebSearch`).

    It sits on the `llm.Text` part holding the span: `part.text[citation.start:citation.end]`
    is the cited text (the whole part where the provider cites whole parts, as Claude does).
    """

    url: str
    """The source's address (Gemini gives a Google redirect to it)."""
    title: str | None = None
    """The source's title (Gemini gives its domain), where the provider sends one."""
    start: int | None = None
    """Where the cited span starts in the part's text, in characters; `None` for its start."""
    end: int | None = None
    """Where the cited span ends (exclusive), in characters; `None` for the part's end."""
    cited_text: str | None = None
    """The source's own words that the span rests on, where the provider quotes them (Claude)."""


@frozen
class Text:
    """A run of text."""

    type: ClassVar[str] = "text"

    text: str
    """The text itself."""
    citations: tuple[Citation, ...] = ()
    """The sources the model cited for spans of this text, in the provider's order."""


# Magic numbers first, the file extension second: a file named `.png` that holds a JPEG is sent as
# what it is.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"ID3", 0, "audio/mpeg"),
    (b"\xff\xfb", 0, "audio/mpeg"),
    (b"\xff\xf3", 0, "audio/mpeg"),
    (b"\xff\xf2", 0, "audio/mpeg"),
    (b"fLaC", 0, "audio/flac"),
    (b"OggS", 0, "audio/ogg"),
    (b"\x1aE\xdf\xa3", 0, "video/webm"),
)
_RIFF_KINDS = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_EXTENSIONS = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".aac": "audio/aac",
    ".m4a": "audio/mp4",
    ".aiff": "audio/aiff",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mpeg": "video/mpeg",
    ".avi": "video/x-msvideo",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".html": "text/html",
}


def _sniff(data: bytes, path: str | None) -> str | None:
    for magic, offset, mime in _SIGNATURES:
        if data.startswith(magic, offset):
            return mime
    if data[:4] == b"RIFF" and data[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[data[8:12]]
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"heic", b"heix", b"mif1"):
            return "image/heic"
        if brand.startswith(b"M4A"):
            return "audio/mp4"
        return "video/mp4"
    if path is not None:
        return _EXTENSIONS.get(Path(path).suffix.lower())
    return None


def _encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _data_url(url: str) -> tuple[bytes, str | None]:
    """The bytes and the media type (if it names one) of a `data:[<type>][;base64],<data>` URL."""
    from urllib.parse import unquote_to_bytes

    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise UsageError("A data: URL needs a ',' before its data, e.g. 'data:image/png;base64,iVBOR...'.")
    params = header.split(";")
    mime = params[0].strip().lower() or None
    if "base64" in (param.strip().lower() for param in params[1:]):
        try:
            return base64.b64decode(unquote_to_bytes(payload), validate=True), mime
        except ValueError:
            raise UsageError("The data: URL says base64, but its data is not valid base64.") from None
    return unquote_to_bytes(payload), mime


def media_type_of(part: _Media) -> str | None:
    """The part's media type: as given, else the one its URL's file extension names for its kind."""
    if part.mime_type is not None or part.url is None:
        return part.mime_type
    from pathlib import PurePosixPath
    from urllib.parse import urlsplit

    guessed = _EXTENSIONS.get(PurePosixPath(urlsplit(part.url).path).suffix.lower())
    return guessed if guessed is not None and guessed.startswith(_MEDIA_TYPES[part.type]) else None


# For each kind of media part: a media type to show in examples, and the formats told from the bytes.
_KINDS: dict[str, tuple[str, str]] = {
    "image": ("image/png", "PNG, JPEG, GIF, WebP or HEIC"),
    "audio": ("audio/mpeg", "MP3, WAV, FLAC, OGG or M4A"),
    "video": ("video/mp4", "MP4, WebM or AVI"),
    "document": ("application/pdf", "PDF"),
}
# For each kind of media part: the media types it takes.
_MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    "image": ("image/",),
    "audio": ("audio/",),
    "video": ("video/",),
    "document": ("application/pdf", "text/"),
}
_TEXT_TOO = {"document": " (or mime_type='text/plain' for text)"} | dict.fromkeys(("image", "audio", "video"), "")


def _media_type(data: bytes, path: str | None, given: str | None, part: type[_Media]) -> str:
    """The media type of `part`'s bytes: `given`, else read from them (or from `path`'s extension)."""
    mime = given or _sniff(data, path)
    kind = part.type
    example, told = _KINDS[kind]
    if mime is None:
        if path is None:
            raise UsageError(
                f"Cannot tell the media type of these bytes: they are not {told} data. "
                f"Say what they are: llm.{part.__name__}.from_bytes(data, mime_type={example!r}){_TEXT_TOO[kind]}."
            )
        raise UsageError(
            f"Cannot tell the media type of {path!r}: its bytes are not {told} data, and its file extension "
            f"names none. Say what it is: llm.{part.__name__}.from_file({path!r}, mime_type={example!r})"
            f"{_TEXT_TOO[kind]}."
        )
    if mime.startswith(_MEDIA_TYPES[kind]):
        return mime
    if given is not None and "/" not in given:
        raise UsageError(f"mime_type={given!r} is not a media type; write the whole type, e.g. mime_type={example!r}.")
    holder = next((cls for cls in (Image, Audio, Video, Document) if mime.startswith(_MEDIA_TYPES[cls.type])), None)
    fix = f"use llm.{holder.__name__} for it" if holder is not None else f"llm.{part.__name__} takes e.g. {example!r}"
    raise UsageError(f"{mime!r} is not {kind} media; {fix}.")


@frozen(kw_only=True)
class _Media:
    """What inline-or-URL parts share; each subclass names its kind and the media types it takes."""

    type: ClassVar[str]
    """The kind of media: `"image"`, `"audio"`, `"video"` or `"document"`."""

    mime_type: str | None
    """The media type, e.g. `"image/png"`; `None` for a URL whose type is not known."""
    data: str | None = None
    """The bytes, base64-encoded; `None` when the part is a URL."""
    url: str | None = None
    """Where the provider fetches it; `None` when the bytes are inline."""

    @classmethod
    def from_bytes(cls, data: bytes, *, mime_type: str | None = None) -> Self:
        """Inline bytes; the media type is read from them unless given."""
        return cls(mime_type=_media_type(data, None, mime_type, cls), data=_encode(data))

    @classmethod
    def from_file(cls, path: str | Path, *, mime_type: str | None = None) -> Self:
        """Inline bytes read from a file; the media type is read from them, else from the name."""
        data = Path(path).read_bytes()
        mime = _media_type(data, str(path), mime_type, cls)
        return cls(mime_type=mime, data=_encode(data))

    @classmethod
    def from_url(cls, url: str, *, mime_type: str | None = None) -> Self:
        """A URL the provider fetches itself; nothing is fetched here.

        The media type is `mime_type`, else the one the URL's file extension names (`None` when
        it names none of this kind). A `data:` URL holds its bytes, so it becomes inline bytes,
        sent as `from_bytes` would send them.
        """
        if url[:5].lower() == "data:":
            data, given = _data_url(url)
            return cls.from_bytes(data, mime_type=mime_type or given)
        part = cls(mime_type=mime_type, url=url)
        return part if mime_type is not None else cls(mime_type=media_type_of(part), url=url)

    def to_bytes(self) -> bytes:
        """The raw bytes of an inline part."""
        if self.data is None:
            raise UsageError(f"This part is a URL ({self.url}), not inline bytes; fetch it yourself.")
        return base64.b64decode(self.data)


@frozen(kw_only=True)
class Image(_Media):
    """An image, inline or by URL: `Image.from_file`, `Image.from_bytes`, `Image.from_url`."""

    type: ClassVar[str] = "image"


@frozen(kw_only=True)
class Audio(_Media):
    """A clip of audio, inline or by URL: `Audio.from_file`, `Audio.from_bytes`, `Audio.from_url`."""

    type: ClassVar[str] = "audio"


@frozen(kw_only=True)
class Video(_Media):
    """A video, inline or by URL: `Video.from_file`, `Video.from_bytes`, `Video.from_url`."""

    type: ClassVar[str] = "video"


@frozen(kw_only=True)
class Document(_Media):
    """A PDF or text document, inline or by URL.

    PDF is recognised from its bytes, text by its file name or `mime_type` (`text/plain`, ...).
    """

    type: ClassVar[str] = "document"


@frozen
class CacheControl:
    """A prompt-cache breakpoint: everything before it may be cached (Claude models only)."""

    type: ClassVar[str] = "cache_control"

    ttl: Literal["5m", "1h"] = "5m"
    """How long the provider keeps the cached prefix."""


@frozen(kw_only=True)
class ToolCall:
    """The model asking for a tool to be run."""

    type: ClassVar[str] = "tool_call"

    id: str
    """The provider's id for this call; the tool's output must carry it back."""
    name: str
    """The tool's name."""
    args: dict[str, object] = field(factory=dict[str, object])
    """The arguments, decoded from the model's JSON."""


ToolOutputPart: TypeAlias = Text | Image | Audio | Video | Document
"""What a tool's output may hold besides text: text and media parts."""

TOOL_OUTPUT_PARTS = (Text, Image, Audio, Video, Document)
"""The part types a tool output's `content` holds, for `isinstance`."""


def _tool_output_parts(parts: object) -> tuple[ToolOutputPart, ...]:
    items = cast("tuple[object, ...]", tuple(parts)) if isinstance(parts, (list, tuple)) else (parts,)  # pyright: ignore[reportUnknownArgumentType]
    for item in items:
        if not isinstance(item, TOOL_OUTPUT_PARTS):
            raise UsageError(
                f"A tool output's content holds llm.Text, llm.Image, llm.Audio, llm.Video and llm.Document "
                f"parts, not {type(item).__name__}; put data in value= (it is sent as JSON)."
            )
    return cast("tuple[ToolOutputPart, ...]", items)


def json_text(value: object, default: Callable[[object], object] = str) -> str:
    """`value` as the JSON text a model reads; `default` turns what JSON cannot hold into what it can."""
    import json

    try:
        return json.dumps(value, ensure_ascii=False, default=default)
    except (TypeError, ValueError):  # a circular structure
        return str(value)


@frozen(kw_only=True)
class ToolOutput:
    """The result of running a tool, sent back to the model.

    A tool may return text, data (dicts, lists, numbers, dataclasses: anything JSON holds) or
    content parts (`llm.Image`, `llm.Document`, `llm.Text`, a list of them). `result` is always
    its text; `value` keeps data and `content` keeps parts, for the providers that take them
    inside a tool result (see the Tools page of the docs for what each one is sent).
    """

    type: ClassVar[str] = "tool_output"

    id: str
    """The id of the `ToolCall` this answers."""
    name: str
    """The tool's name."""
    result: str = ""
    """What the tool returned, as text: the text itself, the JSON of `value`, or the text parts
    of `content`. Left empty, it is made from `value` or `content`."""
    content: tuple[ToolOutputPart, ...] = field(default=(), converter=_tool_output_parts)
    """The parts the tool returned, when it returned an image, a document or other media (text
    parts included, in order); empty for a tool that returned text or data."""
    value: object = None
    """The data the tool returned (JSON-ready: dataclasses and models become dicts), when it
    returned data rather than text or parts; `None` otherwise."""
    is_error: bool = False
    """Whether `result` describes an error raised by the tool."""

    def __attrs_post_init__(self) -> None:
        if self.result:
            return
        if self.content:
            text = "\n".join(part.text for part in self.content if isinstance(part, Text))
        elif self.value is not None:
            text = json_text(self.value)
        else:
            return
        object.__setattr__(self, "result", text)  # frozen: set once, while being made


@frozen(kw_only=True)
class Thought:
    """Reasoning the model returned, kept so that it can be sent back."""

    type: ClassVar[str] = "thought"

    text: str
    """The reasoning text (or its summary); empty when the provider sent it encrypted."""
    signature: str | None = None
    """The provider's signature or encrypted reasoning, returned unchanged on `resume`."""


ContentPart: TypeAlias = Text | Image | Audio | Video | Document | CacheControl | ToolCall | ToolOutput | Thought
"""Any part of a message."""
