"""Markdown as a list of document blocks, read from markdown-it's token stream.

The DOCX and PDF exports both walk these blocks, so the two files share one reading
of the Markdown, the same one the pages render (CommonMark with tables and strikethrough).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_LINK_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of text in one style."""

    text: str
    bold: bool = False
    italic: bool = False
    strike: bool = False
    code: bool = False
    href: str | None = None

    @property
    def safe_href(self) -> str | None:
        """The link if a document may carry it (web or mail), never javascript: and the like."""
        return self.href if self.href and self.href.lower().startswith(_LINK_SCHEMES) else None


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    runs: list[Run]


@dataclass(frozen=True, slots=True)
class Paragraph:
    runs: list[Run]


@dataclass(frozen=True, slots=True)
class CodeBlock:
    text: str
    language: str = ""


@dataclass(frozen=True, slots=True)
class ListBlock:
    ordered: bool
    items: list[list[Block]]
    start: int = 1


@dataclass(frozen=True, slots=True)
class Table:
    header: list[list[Run]]
    rows: list[list[list[Run]]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Quote:
    blocks: list[Block]


@dataclass(frozen=True, slots=True)
class Rule:
    pass


Block = Heading | Paragraph | CodeBlock | ListBlock | Table | Quote | Rule


def parse(markdown: str) -> list[Block]:
    """Read Markdown into blocks."""
    blocks, _ = _read_blocks(_PARSER.parse(markdown), 0, stop=None)
    return blocks


def plain_text(runs: Sequence[Run]) -> str:
    return "".join(run.text for run in runs)


def _read_blocks(tokens: list[Token], index: int, *, stop: str | None) -> tuple[list[Block], int]:
    """Blocks from `index` up to the closing token `stop`; returns them and the index after it."""
    blocks: list[Block] = []
    while index < len(tokens) and tokens[index].type != stop:
        block, index = _read_block(tokens, index)
        if block is not None:
            blocks.append(block)
    return blocks, index + 1


def _read_block(tokens: list[Token], index: int) -> tuple[Block | None, int]:
    token = tokens[index]
    kind = token.type
    if kind == "heading_open":
        return Heading(int(token.tag[1:]), runs(tokens[index + 1])), index + 3
    if kind == "paragraph_open":
        return Paragraph(runs(tokens[index + 1])), index + 3
    if kind in ("fence", "code_block"):
        return CodeBlock(token.content.rstrip("\n"), token.info.strip()), index + 1
    if kind == "hr":
        return Rule(), index + 1
    if kind in ("bullet_list_open", "ordered_list_open"):
        return _read_list(tokens, index)
    if kind == "blockquote_open":
        blocks, index = _read_blocks(tokens, index + 1, stop="blockquote_close")
        return Quote(blocks), index
    if kind == "table_open":
        return _read_table(tokens, index)
    return None, index + 1  # html_block cannot occur (html is off); anything else is skipped


def _read_list(tokens: list[Token], index: int) -> tuple[ListBlock, int]:
    opening = tokens[index]
    items: list[list[Block]] = []
    index += 1
    while tokens[index].type == "list_item_open":
        item, index = _read_blocks(tokens, index + 1, stop="list_item_close")
        items.append(item)
    start = int(opening.attrGet("start") or 1)
    return ListBlock(opening.type == "ordered_list_open", items, start), index + 1


def _read_table(tokens: list[Token], index: int) -> tuple[Table, int]:
    header: list[list[Run]] = []
    rows: list[list[list[Run]]] = []
    in_head = False
    while tokens[index].type != "table_close":
        kind = tokens[index].type
        if kind in ("thead_open", "thead_close"):
            in_head = kind == "thead_open"
        elif kind == "tr_open" and not in_head:
            rows.append([])
        elif kind in ("th_open", "td_open"):
            (header if in_head else rows[-1]).append(runs(tokens[index + 1]))
        index += 1
    return Table(header, rows), index + 1


def runs(inline: Token) -> list[Run]:
    """The styled pieces of an inline token, in order."""
    found: list[Run] = []
    style = Run("")
    links: list[str | None] = []
    for child in inline.children or []:
        kind = child.type
        if kind in _STYLE_SWITCHES:
            name, value = _STYLE_SWITCHES[kind]
            style = replace(style, **{name: value})
        elif kind == "link_open":
            links.append(style.href)
            style = replace(style, href=str(child.attrGet("href") or "") or None)
        elif kind == "link_close":
            style = replace(style, href=links.pop() if links else None)
        elif text := _inline_text(child):
            found.append(replace(style, text=text, code=kind == "code_inline"))
    return found


_STYLE_SWITCHES = {
    "strong_open": ("bold", True),
    "strong_close": ("bold", False),
    "em_open": ("italic", True),
    "em_close": ("italic", False),
    "s_open": ("strike", True),
    "s_close": ("strike", False),
}


def _inline_text(token: Token) -> str:
    if token.type in ("text", "code_inline", "html_inline"):
        return token.content
    if token.type == "softbreak":
        return " "
    if token.type == "hardbreak":
        return "\n"
    if token.type == "image":
        # Exports never fetch images; the alt text and the address stand in for them.
        alt = "".join(child.content for child in token.children or []) or "image"
        return f"[{alt}: {token.attrGet('src')}]"
    return ""
