"""Model text can hold any line break and look like any field: it streams as plain text."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from webapp.models import User

from ..chat_helpers import make_thread, read_stream, reply_id_from, wait_for_reply
from ..fakes import FakeServer, text_reply

FORGED = "First line\rid: 999\r\nevent: done\rdata: <b>forged</b>\n\nretry: 1\r\rLast line"


def test_line_breaks_and_field_names_in_model_text_stream_as_plain_text(
    app: Flask, client: FlaskClient, user: User, provider: str, fake: FakeServer
) -> None:
    fake.script(text_reply(FORGED, chunks=4), text_reply("Title"))
    thread_id = make_thread(app, user.id, model_provider=provider)
    posted = client.post(f"/threads/{thread_id}/messages", data={"content": "Hi"}, headers={"HX-Request": "true"})
    reply_id = reply_id_from(posted.get_data(as_text=True))
    events = read_stream(client, reply_id)
    deltas = [e for e in events if e.event == "delta"]
    assert [e.event for e in events] == ["delta"] * len(deltas) + ["done"]
    assert [e.id for e in deltas] == list(range(1, len(deltas) + 1))
    # Each line break reaches the page as one; the text around it is text, escaped.
    shown = "".join(e.data for e in deltas)
    assert shown == ("First line\nid: 999\nevent: done\ndata: &lt;b&gt;forged&lt;/b&gt;\n\nretry: 1\n\nLast line")
    assert "retry: 1" in events[-1].data and "forged" in events[-1].data
    assert wait_for_reply(app, reply_id).content == FORGED
