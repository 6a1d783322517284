"""The message tree and the branch a thread shows, on every database."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from webapp.chat import branches
from webapp.chat.service import purge_deleted, select_version
from webapp.extensions import db
from webapp.models import Message, Thread, User, utcnow

START = utcnow() - timedelta(hours=1)


@pytest.fixture
def thread(app: Flask):
    with app.app_context():
        user = User(email="ana@example.com", display_name="Ana", password_hash="x")
        db.session.add(user)
        db.session.flush()
        thread = Thread(user_id=user.id, model_provider="offline")
        db.session.add(thread)
        db.session.commit()
        yield thread


def add(thread: Thread, id_: str, parent: str | None, *, minute: int, role: str = "user", **fields: object) -> None:
    db.session.add(
        Message(
            id=id_,
            thread_id=thread.id,
            parent_id=parent,
            role=role,
            content=f"text of {id_}",
            created_at=START + timedelta(minutes=minute),
            **fields,
        )
    )
    db.session.commit()


def shown(thread: Thread) -> list[str]:
    db.session.expire_all()
    return [m.id for m in branches.selected_path(db.session.get(Thread, thread.id))]


def regenerated_twice(thread: Thread) -> None:
    """q1 → a1, and a1's versions a1b and a1c; q2 follows a1."""
    add(thread, "q1", None, minute=0)
    add(thread, "a1", "q1", minute=1, role="assistant")
    add(thread, "q2", "a1", minute=2)
    add(thread, "a1b", "q1", minute=3, role="assistant")
    add(thread, "a1c", "q1", minute=4, role="assistant")


def test_without_a_chosen_leaf_the_newest_branch_is_shown(thread: Thread) -> None:
    regenerated_twice(thread)
    assert shown(thread) == ["q1", "a1c"]
    branch = branches.selected_branch(thread)
    versions = branch.versions(branches.load(["a1c", "q1"]))
    assert versions == {"a1c": branches.Versions(3, 3, "a1b", None)}
    assert branch.tip_id == branch.last_id == "a1c"


def test_the_chosen_leaf_is_kept_and_a_switch_goes_down_the_newest_children(thread: Thread) -> None:
    regenerated_twice(thread)
    thread.current_leaf_id = "a1b"
    db.session.commit()
    assert shown(thread) == ["q1", "a1b"]
    select_version(db.session.get(Message, "a1"))
    assert db.session.get(Thread, thread.id).current_leaf_id == "q2"
    assert shown(thread) == ["q1", "a1", "q2"]
    # Switching to a message already on the branch keeps what is shown below it.
    select_version(db.session.get(Message, "q1"))
    assert shown(thread) == ["q1", "a1", "q2"]


def test_the_branch_through_a_message_is_what_it_answers(thread: Thread) -> None:
    regenerated_twice(thread)
    assert [m.id for m in branches.selected_path(thread, through=db.session.get(Message, "q2"))] == ["q1", "a1", "q2"]


def test_deleted_messages_are_steps_nobody_is_shown(thread: Thread) -> None:
    regenerated_twice(thread)
    db.session.get(Message, "a1c").deleted_at = utcnow()
    db.session.commit()
    # The newest version, deleted, does not hide its siblings: the one before it is shown.
    assert shown(thread) == ["q1", "a1b"]
    assert branches.selected_branch(thread).versions(branches.load(["a1b"]))["a1b"].count == 2
    db.session.get(Message, "a1").deleted_at = utcnow()
    thread.current_leaf_id = "q2"
    db.session.commit()
    # A deleted message in the middle: what followed it stays on the branch.
    assert shown(thread) == ["q1", "q2"]


def test_a_new_message_after_a_deleted_last_one_goes_after_it(thread: Thread) -> None:
    add(thread, "q1", None, minute=0)
    add(thread, "a1", "q1", minute=1, role="assistant", deleted_at=utcnow())
    branch = branches.selected_branch(thread)
    # The deleted reply is where the next message goes, so that an undo puts it back in its place.
    assert branch.ids == ["q1"] and branch.tip_id == "a1"


def test_the_purge_joins_what_followed_a_deleted_message_to_its_parent(thread: Thread) -> None:
    add(thread, "q1", None, minute=0)
    add(thread, "a1", "q1", minute=1, role="assistant", deleted_at=utcnow() - timedelta(minutes=5))
    add(thread, "q2", "a1", minute=2, deleted_at=utcnow() - timedelta(minutes=5))
    add(thread, "a2", "q2", minute=3, role="assistant")
    add(thread, "q3", "a2", minute=4, deleted_at=utcnow() - timedelta(minutes=5))
    thread.current_leaf_id = "q3"
    db.session.commit()
    purge_deleted(thread.id)
    db.session.expire_all()
    links = dict(db.session.execute(sa.select(Message.id, Message.parent_id)).all())
    assert links == {"q1": None, "a2": "q1"}
    assert db.session.get(Thread, thread.id).current_leaf_id == "a2"
    assert shown(thread) == ["q1", "a2"]


def test_a_parent_removed_by_hand_leaves_its_children_at_the_top(thread: Thread) -> None:
    add(thread, "q1", None, minute=0)
    add(thread, "a1", "q1", minute=1, role="assistant")
    db.session.execute(sa.delete(Message).where(Message.id == "q1"))
    db.session.commit()
    assert db.session.get(Message, "a1").parent_id is None
    assert shown(thread) == ["a1"]


def test_a_branched_thread_is_deleted_whole(thread: Thread) -> None:
    regenerated_twice(thread)
    db.session.execute(sa.delete(Thread).where(Thread.id == thread.id))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_the_ids_shown_for_several_threads_come_in_two_queries(thread: Thread) -> None:
    regenerated_twice(thread)
    other = Thread(user_id=thread.user_id, model_provider="offline")
    db.session.add(other)
    db.session.commit()
    add(other, "x1", None, minute=0)
    add(other, "x2", None, minute=1)
    other.current_leaf_id = "x1"
    db.session.commit()
    ids = [thread.id, other.id]
    statements: list[str] = []

    def count(connection: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert branches.selected_ids(ids) == {"q1", "a1c", "x1"}
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 2


def test_a_thousand_messages_are_walked_without_recursion() -> None:
    nodes = [branches.Node(f"m{n}", f"m{n - 1}" if n else None, False) for n in range(5000)]
    tree = branches.Tree(nodes)
    assert [node.id for node in tree.descend(None, None)][-1] == "m4999"
    assert len(tree.ancestry("m4999")) == 5000


def test_a_summary_made_on_another_branch_is_made_again(thread: Thread) -> None:
    from webapp.chat.summary import ensure_summary
    from webapp.llm.offline import OfflineProvider

    regenerated_twice(thread)
    add(thread, "q2c", "a1c", minute=5)
    on_a1 = branches.selected_path(thread, through=db.session.get(Message, "q2"))[:-1]
    on_a1c = branches.selected_path(thread, through=db.session.get(Message, "q2c"))[:-1]
    summary = ensure_summary(thread, on_a1, OfflineProvider(), "offline", max_tokens=100)
    assert "- assistant: text of a1" in summary.splitlines()
    # The same branch again: the summary is kept as it is.
    assert ensure_summary(thread, on_a1, OfflineProvider(), "offline", max_tokens=100) == summary
    # Another version of the reply: nothing of the first one stays in what the model is told.
    lines = ensure_summary(thread, on_a1c, OfflineProvider(), "offline", max_tokens=100).splitlines()
    assert "- assistant: text of a1c" in lines and "- assistant: text of a1" not in lines
