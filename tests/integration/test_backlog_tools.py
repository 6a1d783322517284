"""The assistant's tools for backlogs: saving items with their sources, reading them back, and tasks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.assistant.tools import ToolContext, run_tool, tools_for
from webapp.auth.service import find_by_email
from webapp.extensions import db
from webapp.llm.base import ToolCall
from webapp.models import Artifact, ArtifactItem, Document, Task, Thread, User

from ..backlog_data import make_document, make_project
from ..chat_helpers import make_thread, reply_id_from, wait_for_reply
from ..conftest import other_client
from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import text_reply, tool_reply


def call(app: Flask, thread_id: str, name: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], bool, str]:
    """Run one tool call as a reply in the thread would; returns the result, whether it failed, the activity."""
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        outcome = run_tool(ToolCall("call_1", name, arguments), ToolContext(thread.user_id, thread, None))
        db.session.commit()
        return json.loads(outcome.result.content), outcome.result.is_error, outcome.activity


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def project_id(app: Flask, user: User) -> str:
    return make_project(app, user.id)


@pytest.fixture
def thread_id(app: Flask, user: User, project_id: str) -> str:
    return make_thread(app, user.id, project_id=project_id, title="Checkout")


@pytest.fixture
def passages(app: Flask, user: User, project_id: str) -> list[int]:
    return make_document(app, user.id, project_id=project_id, pages=[1, 1, 2, 3])[1]


def stories_arguments(passages: list[int]) -> dict[str, Any]:
    return {
        "artifact_type": "user_stories",
        "title": "Checkout stories",
        "content_markdown": "Stories for checkout.",
        "items": [
            {
                "kind": "requirement",
                "title": "Card payments",
                "description": "The shop shall accept cards.",
                "priority": "must",
                "sources": [passages[1]],
            },
            {
                "kind": "story",
                "title": "Pay by card",
                "as_a": "shopper",
                "i_want": "to pay by card",
                "so_that": "I can check out without cash",
                "priority": "must",
                "estimate": 3,
                "requirement_key": "REQ-1",
                "acceptance_criteria": [
                    "Given a basket\nWhen I pay by card\nThen the order is placed",
                    {"given": "an expired card", "when": "I pay", "then": "I am told why"},
                ],
                "sources": [passages[1], str(passages[2])],
            },
        ],
    }


def test_search_results_give_passage_ids_to_cite(app: Flask, thread_id: str, passages: list[int]) -> None:
    result, failed, _ = call(app, thread_id, "search_documents", {"query": "card"})
    assert not failed and result["results"][0]["passage_id"] == passages[1]


def test_save_keeps_items_with_keys_fields_and_sources(
    app: Flask, client: FlaskClient, thread_id: str, passages: list[int]
) -> None:
    result, failed, activity = call(app, thread_id, "save_artifact", stories_arguments(passages))
    assert not failed and activity == 'Saved artifact "Checkout stories" (version 1)'
    assert result["items"] == ["REQ-1", "US-1"] and result["version"] == 1
    with app.app_context():
        artifact = db.session.get(Artifact, result["artifact_id"])
        requirement, story = artifact.items
        assert story.acceptance_criteria[1] == "Given an expired card\nWhen I pay\nThen I am told why"
        assert (story.priority, story.estimate, story.status, story.requirement_key) == ("must", 3, "draft", "REQ-1")
        assert [(s.chunk_id, s.document_name, s.page, s.ordinal) for s in story.sources] == [
            (passages[1], "kickoff.txt", 1, 2),
            (passages[2], "kickoff.txt", 2, 3),
        ]
        assert story.sources[0].excerpt.startswith("Shoppers must be able to pay by card")
        markdown = artifact.content_markdown
    assert markdown.startswith("Stories for checkout.\n\n## REQ-1 · Card payments")
    assert "As a shopper, I want to pay by card, so that I can check out without cash." in markdown
    assert "**Sources:** kickoff.txt, p. 1, §2; kickoff.txt, p. 2, §3" in markdown
    # The findings come back with the save: the story is fine, the requirement has no criteria to check.
    assert "US-1" not in result["findings"]


@pytest.mark.parametrize(
    "items, problems",
    [
        ("not a list", ["items: must be a list of objects."]),
        ([{"kind": "story", "as_a": "shopper"}], ["items[0].title: required.", "items[0].i_want: required."]),
        (
            [
                {"kind": "epic", "title": "X"},
                {
                    "kind": "story",
                    "title": "Y",
                    "as_a": "a",
                    "i_want": "b",
                    "priority": "urgent",
                    "estimate": -2,
                    "key": "us 1",
                },
            ],
            [
                "items[0].kind: choose one of story, requirement.",
                "items[1].key: a key such as US-1 or REQ-4 (capitals, a dash, a number).",
                "items[1].priority: choose one of must, should, could, wont.",
                "items[1].estimate: a whole number of points from 0 to 1000.",
            ],
        ),
        (
            [
                {"kind": "requirement", "title": "A", "description": "a", "key": "REQ-1"},
                {"kind": "requirement", "title": "B", "description": "b", "key": "req-1"},
            ],
            ["items: the key REQ-1 is used more than once; each item needs its own."],
        ),
        (
            [{"kind": "requirement", "title": "A", "description": "a", "sources": ["first"]}],
            ["items[0].sources: 'first' is not a passage id (use the passage_id numbers search_documents gives)."],
        ),
    ],
)
def test_malformed_items_are_refused_naming_each_problem(
    app: Flask, thread_id: str, items: Any, problems: list[str]
) -> None:
    arguments = {"artifact_type": "user_stories", "title": "Stories", "items": items}
    result, failed, activity = call(app, thread_id, "save_artifact", arguments)
    assert failed and result["error"].startswith("Nothing was saved")
    assert sorted(result["problems"]) == sorted(problems)
    assert "save_artifact failed" in activity and count(app, Artifact) == count(app, ArtifactItem) == 0


def test_unknown_and_other_users_passages_are_refused_and_nothing_is_saved(
    app: Flask, user: User, thread_id: str, passages: list[int]
) -> None:
    intruder = other_client(app)
    with app.app_context():
        ben = find_by_email("ben@example.com")
    _, theirs = make_document(app, ben.id, ["Ben's secret plan"], project_id=make_project(app, ben.id, "Ben's"))
    call(app, thread_id, "save_artifact", {"artifact_type": "user_stories", "title": "Kept", "content_markdown": "v1"})
    arguments = stories_arguments(passages)
    arguments["title"] = "Kept"
    arguments["items"][0]["sources"] = [passages[0], 999_999]
    arguments["items"][1]["sources"] = [theirs[0]]
    result, failed, _ = call(app, thread_id, "save_artifact", arguments)
    assert failed and result["problems"] == [
        "items[0].sources: passage 999999 is not one of this chat's passages "
        "(cite the passage_id values search_documents returned).",
        f"items[1].sources: passage {theirs[0]} is not one of this chat's passages "
        "(cite the passage_id values search_documents returned).",
    ]
    assert "secret" not in json.dumps(result)
    with app.app_context():
        assert [a.version for a in db.session.scalars(sa.select(Artifact))] == [1]
    assert count(app, ArtifactItem) == 0
    assert intruder.get("/artifacts").status_code == 200


def test_a_passage_of_another_chat_is_not_citable(app: Flask, user: User, thread_id: str) -> None:
    elsewhere = make_thread(app, user.id, thread_type="assistant")
    _, other_chat = make_document(app, user.id, ["Passage of another chat"], thread_id=elsewhere)
    arguments = {
        "artifact_type": "requirements_doc",
        "title": "Reqs",
        "items": [{"kind": "requirement", "title": "A", "description": "a", "sources": other_chat}],
    }
    result, failed, _ = call(app, thread_id, "save_artifact", arguments)
    assert failed and "is not one of this chat's passages" in result["problems"][0]


def test_keys_stay_and_new_items_are_numbered_after_every_key_used(
    app: Flask, thread_id: str, passages: list[int]
) -> None:
    call(app, thread_id, "save_artifact", stories_arguments(passages))
    revised = stories_arguments(passages)
    revised["items"] = [
        {**revised["items"][1], "key": "US-1"},
        {"kind": "story", "title": "Pay by voucher", "as_a": "shopper", "i_want": "to use a voucher"},
    ]
    second, failed, _ = call(app, thread_id, "save_artifact", revised)
    assert not failed and second["version"] == 2 and second["items"] == ["US-1", "US-2"]
    third, _, _ = call(
        app,
        thread_id,
        "save_artifact",
        {
            **revised,
            "items": [
                {"kind": "story", "title": "Split payment", "as_a": "shopper", "i_want": "to split a payment"},
                {"kind": "requirement", "title": "Vouchers", "description": "The shop shall take vouchers."},
            ],
        },
    )
    assert third["items"] == ["US-3", "REQ-2"]
    with app.app_context():
        current = db.session.scalars(sa.select(ArtifactItem.key).where(ArtifactItem.is_current.is_(True))).all()
    assert sorted(current) == ["REQ-2", "US-3"]


def test_read_artifact_gives_the_current_version_with_findings(app: Flask, thread_id: str, passages: list[int]) -> None:
    listing, _, activity = call(app, thread_id, "read_artifact", {})
    assert listing == {"artifacts": []} and activity == "Listed artifacts (0)"
    arguments = stories_arguments(passages)
    arguments["items"].append(
        {
            "kind": "story",
            "title": "Fast checkout",
            "as_a": "shopper",
            "i_want": "a fast, user-friendly checkout",
            "acceptance_criteria": ["It is quick"],
        }
    )
    call(app, thread_id, "save_artifact", arguments)
    result, failed, _ = call(app, thread_id, "read_artifact", {"title": "checkout  STORIES"})
    assert not failed and result["version"] == 1 and result["content_markdown"] == "Stories for checkout."
    story = result["items"][1]
    assert story["key"] == "US-1" and story["sources"][0] == {
        "passage_id": passages[1],
        "place": "kickoff.txt, p. 1, §2",
        "removed": False,
    }
    findings = result["findings"]["US-2"]
    assert any("“fast”" in f for f in findings) and any("“user-friendly”" in f for f in findings)
    assert any("No “so that”" in f for f in findings) and any("not Given/When/Then" in f for f in findings)
    assert any("No source" in f for f in findings)
    missing, failed, _ = call(app, thread_id, "read_artifact", {"title": "Nope"})
    assert failed and missing["error"] == "No artifact titled 'Nope' in this chat. Its artifacts: \"Checkout stories\"."


def test_task_tools_complete_and_delete_only_the_users_own_tasks(
    app: Flask, client: FlaskClient, user: User, thread_id: str
) -> None:
    created, _, _ = call(app, thread_id, "create_task", {"title": "Book the workshop"})
    done, failed, activity = call(app, thread_id, "complete_task", {"task_id": created["task_id"]})
    assert not failed and done["completed"] and activity == 'Completed task "Book the workshop"'
    gone, failed, activity = call(app, thread_id, "delete_task", {"task_id": created["task_id"]})
    assert not failed and gone["deleted"] and activity == 'Deleted task "Book the workshop"'
    tasks_page = client.get("/tasks").get_data(as_text=True)
    assert "Book the workshop" in tasks_page and "Undo" in tasks_page
    undo = client.post(f"/tasks/{created['task_id']}/restore")
    assert undo.status_code == 303
    with app.app_context():
        assert db.session.get(Task, created["task_id"]).deleted_at is None

    intruder = other_client(app)
    with app.app_context():
        ben = find_by_email("ben@example.com")
    bens_thread = make_thread(app, ben.id)
    for name in ("complete_task", "delete_task"):
        result, failed, _ = call(app, bens_thread, name, {"task_id": created["task_id"]})
        assert failed and result == {"error": "No task with that id."}
    assert intruder.get("/tasks").status_code == 200
    with app.app_context():
        task = db.session.get(Task, created["task_id"])
        assert task.deleted_at is None and task.completed


def test_ba_chats_offer_every_task_tool_and_read_artifact(app: Flask, thread_id: str) -> None:
    with app.app_context():
        names = [spec.name for spec in tools_for(db.session.get(Thread, thread_id))]
    assert names == [
        "save_artifact",
        "read_artifact",
        "create_task",
        "list_tasks",
        "update_task",
        "complete_task",
        "delete_task",
    ]


@pytest.mark.parametrize("status", ["processing", "refused"])
def test_search_is_offered_only_once_a_document_is_stored(
    app: Flask, user: User, project_id: str, thread_id: str, status: str
) -> None:
    document_id, _ = make_document(app, user.id, project_id=project_id)
    with app.app_context():
        db.session.execute(sa.update(Document).where(Document.id == document_id).values(status=status))
        db.session.commit()
        assert "search_documents" not in [spec.name for spec in tools_for(db.session.get(Thread, thread_id))]
        db.session.execute(sa.update(Document).where(Document.id == document_id).values(status="stored"))
        db.session.commit()
        assert [spec.name for spec in tools_for(db.session.get(Thread, thread_id))][0] == "search_documents"


class TestFromAChat:
    """The model searches, saves stories citing what it found, and a bad save is refused in the tool result."""

    @pytest.fixture
    def anthropic(self) -> Iterator[FakeAnthropic]:
        with FakeAnthropic() as fake:
            yield fake

    @pytest.fixture
    def app_config(self, anthropic: FakeAnthropic) -> dict[str, Any]:
        return {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": anthropic.url, "LLM_MAX_RETRIES": 0}

    def test_the_model_cites_passages_and_a_refusal_reaches_it(
        self,
        app: Flask,
        client: FlaskClient,
        user: User,
        project_id: str,
        passages: list[int],
        anthropic: FakeAnthropic,
    ) -> None:
        thread_id = make_thread(
            app, user.id, project_id=project_id, model_provider="anthropic", title="Checkout", title_locked=True
        )
        bad = {
            **stories_arguments(passages),
            "items": [{"kind": "story", "title": "X", "as_a": "a", "i_want": "b", "sources": [123456789]}],
        }
        anthropic.script(
            tool_reply("search_documents", {"query": "card"}),
            tool_reply("save_artifact", bad, call_id="call_2"),
            tool_reply("save_artifact", stories_arguments(passages), call_id="call_3"),
            text_reply("Saved the checkout stories."),
        )
        reply_id = reply_id_from(
            client.post(
                f"/threads/{thread_id}/messages",
                data={"content": "Write the stories"},
                headers={"HX-Request": "true", "HX-Target": "messages"},
            ).get_data(as_text=True)
        )
        reply = wait_for_reply(app, reply_id)
        assert reply.status == "complete"
        refused = reply.tool_calls[1]
        assert refused["is_error"] and "passage 123456789 is not one of this chat's passages" in refused["result"]
        assert not reply.tool_calls[2]["is_error"]
        # The model was told about the refusal in the request after it.
        sent = anthropic.requests[2].json()["messages"][-1]["content"][0]
        assert sent["is_error"] and "123456789" in sent["content"]
        assert "passage_id" in json.dumps(anthropic.requests[0].json()["tools"])
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Artifact)) == 1


def test_a_save_too_long_to_draw_is_refused_whole(app: Flask, thread_id: str) -> None:
    item = {
        "kind": "requirement",
        "title": "Big",
        "description": "x" * 10_000,
        "acceptance_criteria": ["Given a\nWhen b\nThen " + "c" * 1_900] * 30,
    }
    arguments = {"artifact_type": "requirements_doc", "title": "Huge", "items": [item] * 20}
    result, failed, _ = call(app, thread_id, "save_artifact", arguments)
    assert failed and "would be over 1,000,000 characters" in result["error"]
    assert count(app, Artifact) == count(app, ArtifactItem) == 0
