"""Markdown as the chat shows it: code blocks with their language and a Copy button, and what Copy takes."""

from __future__ import annotations

from webapp.rendering import markdown_source, markdown_to_html


def test_a_code_block_has_its_language_and_a_copy_button() -> None:
    html = str(markdown_to_html("```python\nprint('hi')\n```"))
    assert html.startswith(
        '<div class="code-block"><div class="code-head"><span class="code-lang">python</span>'
        '<button type="button" class="code-copy" aria-label="Copy python code">Copy</button></div>'
        '<pre><code class="language-python">'
    )


def test_blocks_without_a_language_say_text() -> None:
    for text in ("```\nplain\n```", "    indented code"):
        html = str(markdown_to_html(text))
        assert '<span class="code-lang">text</span>' in html and 'aria-label="Copy the code"' in html


def test_a_crafted_language_stays_text() -> None:
    html = str(markdown_to_html('```x" onclick="alert(1)<img src=x>\ncode\n```'))
    assert '<span class="code-lang">x"</span>' in html and 'aria-label="Copy x&quot; code"' in html
    assert "onclick" not in html and "<img" not in html


def test_model_text_cannot_make_buttons() -> None:
    html = str(markdown_to_html('<button class="code-copy" onclick="steal()">Copy</button>'))
    assert "<button" not in html and "&lt;button" in html


def test_copy_takes_the_markdown_with_choices_as_a_list() -> None:
    reply = "Pick one:\n\n| a | b |\n| - | - |\n\n```choices\n- Yes\n- No\n```\n"
    assert markdown_source(reply) == "Pick one:\n\n| a | b |\n| - | - |\n\n- Yes\n- No"
    assert markdown_source("Just *text*") == "Just *text*"
