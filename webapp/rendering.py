"""Markdown to sanitized HTML, and the Jinja filters that show user and model text."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

import nh3
from flask import Flask, g
from flask_login import current_user
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .llm.specs import display_name
from .timezones import today_in, zone

_ALLOWED_TAGS = {
    "a",
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "span",
    "div",
    "mark",
    "sup",
    "sub",
    "input",
    "button",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "pre": {"class"},
    "ol": {"start"},
    "input": {"type", "checked", "disabled"},
    # Only the code blocks' Copy buttons: Markdown's raw HTML is escaped before this, never passed through.
    "button": {"type", "class", "aria-label"},
}
# Table cells are aligned by class: the page's policy allows no style attributes.
_ALIGNMENTS = ("left", "center", "right")
_ALLOWED_CLASSES = {cell: {f"align-{side}" for side in _ALIGNMENTS} for cell in ("th", "td")}
_FORMATTER = HtmlFormatter(nowrap=True)


def _highlight(code: str, language: str, attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(language or "text")
    except ClassNotFound:
        return ""
    return highlight(code, lexer, _FORMATTER)


def _image_as_link(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    # A remote image would load as soon as the reply renders and could carry data out
    # in its URL; a link only goes anywhere when the reader clicks it.
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = "".join(child.content for child in token.children or []) or src
    return f'<a href="{_escape_attr(str(src))}">{_escape_text(alt)}</a>'


def _aligned_cell(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    # markdown-it writes a column's alignment as style="text-align:…"; say it with a class.
    token = tokens[idx]
    style = str(token.attrs.pop("style", ""))
    side = style.removeprefix("text-align:")
    if side in _ALIGNMENTS:
        token.attrSet("class", f"align-{side}")
    return renderer.renderToken(tokens, idx, options, env)


def _escape_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _escape_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code_block(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """A code block under a bar with its language and a Copy button (the page's script does the copying)."""
    token = tokens[idx]
    words = token.info.split(maxsplit=1)
    language = escapeHtml(words[0][:30]) if words else ""
    default = renderer.fence if token.type == "fence" else renderer.code_block
    return (
        f'<div class="code-block"><div class="code-head"><span class="code-lang">{language or "text"}</span>'
        f'<button type="button" class="code-copy" aria-label="Copy {language or "the"} code">Copy</button></div>'
        f"{default(tokens, idx, options, env)}</div>"
    )


def _build_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    parser.enable(["table", "strikethrough"])
    parser.add_render_rule("image", _image_as_link)
    parser.add_render_rule("fence", _code_block)
    parser.add_render_rule("code_block", _code_block)
    parser.add_render_rule("th_open", _aligned_cell)
    parser.add_render_rule("td_open", _aligned_cell)
    return parser


_PARSER = _build_parser()


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        allowed_classes=_ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow",
    )


def markdown_to_html(text: str | None) -> Markup:
    """Render Markdown from a user or a model as safe HTML."""
    if not text:
        return Markup("")
    return _render_markdown(text)


# Finished messages never change and a thread page shows fifty of them on every load;
# parsing dominates that page's time, so the newest results are kept.
@functools.lru_cache(maxsize=1024)
def _render_markdown(text: str) -> Markup:
    return Markup(sanitize(_PARSER.render(text)))


_CHOICES = re.compile(r"```choices[ \t]*\n(.*?)\n?```[ \t]*(?:\n|$)", re.DOTALL)


def split_choices(text: str) -> tuple[str, list[str]]:
    """Take the clickable answer choices (a ```choices block of list items) out of a reply."""
    choices: list[str] = []

    def collect(match: re.Match[str]) -> str:
        for line in match.group(1).splitlines():
            item = line.strip().lstrip("-*").strip()
            if item:
                choices.append(item[:300])
        return ""

    return _CHOICES.sub(collect, text), choices[:6]


def markdown_source(text: str | None) -> str:
    """A reply's Markdown as the user copies it: its answer choices as a list, not the block behind the buttons."""
    body, choices = split_choices(text or "")
    if not choices:
        return body
    return body.rstrip() + "\n\n" + "\n".join(f"- {choice}" for choice in choices)


def humanize_bytes(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def timeago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "never"
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    for limit, divisor, unit in (
        (60, 1, "second"),
        (3600, 60, "minute"),
        (86400, 3600, "hour"),
        (86400 * 30, 86400, "day"),
    ):
        if seconds < limit:
            if unit == "second":
                return "just now"
            count = seconds // divisor
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return f"{moment.astimezone(_clock().zone):%d %b %Y}"


def isodate(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def localtime(moment: datetime | None) -> str:
    """The moment as the signed-in user's clock shows it, with the zone's abbreviation."""
    if moment is None:
        return ""
    here = moment.astimezone(_clock().zone)
    return f"{here:%d %b %Y %H:%M} {here.tzname()}"


def clocktime(moment: datetime | None) -> str:
    """A short time on the signed-in user's clock, as a message's label."""
    if moment is None:
        return ""
    clock = _clock()
    return short_time(moment.astimezone(clock.zone), clock.today)


def short_time(here: datetime, today: date) -> str:
    """The hour for today, the day and hour for this year, the date for earlier years."""
    if here.date() == today:
        return f"{here:%H:%M}"
    if here.year == today.year:
        return f"{here.day} {here:%b %H:%M}"
    return f"{here.day} {here:%b %Y}"


@dataclass(frozen=True, slots=True)
class _Clock:
    zone: tzinfo
    today: date


def _clock() -> _Clock:
    """The signed-in user's zone and date (UTC for anyone else), worked out once per request."""
    # A page shows dozens of times, and each look at current_user goes through its proxies.
    clock = g.get("users_clock")
    if clock is None:
        name = current_user.timezone if current_user.is_authenticated else None
        clock = g.users_clock = _Clock(zone(name), today_in(name))
    return clock


def usd(amount: Decimal | float | None) -> str:
    value = Decimal(str(amount or 0))
    return f"${value:,.4f}" if value and value < Decimal("0.01") else f"${value:,.2f}"


# (key, label, endpoint, icon): the sidebar, in order. Pages set `active_page` to a key.
# The icons are plain text symbols, so the collapsed sidebar still tells the items apart.
NAV_ITEMS = (
    ("home", "Home", "home.index", "⌂"),
    ("projects", "Projects", "projects.index", "▦"),
    ("chats", "Chats", "threads.chats", "☰"),
    ("assistant", "Assistant", "threads.assistant", "✦"),
    ("tasks", "Tasks", "tasks.index", "✓"),
    ("artifacts", "Artifacts", "artifacts.index", "❏"),
    ("settings", "Settings", "auth.settings", "⚙"),
)


def user_today() -> date:
    """Today where the signed-in user is (UTC for anyone else)."""
    return _clock().today


def init_templates(app: Flask) -> None:
    app.jinja_env.globals.update(nav_items=NAV_ITEMS, user_today=user_today)
    app.jinja_env.filters.update(
        markdown=markdown_to_html,
        filesize=humanize_bytes,
        timeago=timeago,
        isodate=isodate,
        localtime=localtime,
        clocktime=clocktime,
        usd=usd,
        split_choices=split_choices,
        markdown_source=markdown_source,
        provider_name=display_name,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
