"""The data model's rules, on every database."""

from __future__ import annotations

from datetime import UTC

import pytest
import sqlalchemy as sa
from flask import Flask

from webapp.extensions import db
from webapp.models import Artifact, Document, DocumentChunk, Message, Project, Task, Thread, User


@pytest.fixture
def ctx(app: Flask):
    with app.app_context():
        yield


def _user(email: str = "ana@example.com") -> User:
    user = User(email=email, display_name="Ana", password_hash="x")
    db.session.add(user)
    db.session.flush()
    return user


def _document(user: User, **owner: str) -> Document:
    return Document(
        user_id=user.id,
        filename="notes.txt",
        content_type="text/plain",
        size_bytes=5,
        sha256="a" * 64,
        original=b"hello",
        **owner,
    )


def test_email_is_stored_lower_case(ctx) -> None:
    user = _user("Ana@Example.COM ")
    assert user.email == "ana@example.com"


def test_deleting_a_project_keeps_its_threads_without_a_project(ctx) -> None:
    user = _user()
    project = Project(user_id=user.id, name="Acme")
    db.session.add(project)
    db.session.flush()
    thread = Thread(user_id=user.id, project_id=project.id, model_provider="offline")
    db.session.add(thread)
    db.session.add(_document(user, project_id=project.id))
    db.session.commit()
    thread_id = thread.id

    db.session.execute(sa.delete(Project).where(Project.id == project.id))
    db.session.commit()
    db.session.expire_all()

    kept = db.session.get(Thread, thread_id)
    assert kept is not None and kept.project_id is None and kept.user_id == user.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0


def test_deleting_a_thread_cascades_to_messages_artifacts_and_documents(ctx) -> None:
    user = _user()
    thread = Thread(user_id=user.id, model_provider="offline", thread_type="assistant")
    db.session.add(thread)
    db.session.flush()
    message = Message(thread_id=thread.id, role="assistant", content="Hi")
    db.session.add(message)
    db.session.flush()
    db.session.add_all(
        [
            Artifact(
                thread_id=thread.id, message_id=message.id, artifact_type="brd", title="BRD", content_markdown="# BRD"
            ),
            _document(user, thread_id=thread.id),
            Task(user_id=user.id, thread_id=thread.id, title="Follow up"),
        ]
    )
    db.session.commit()

    db.session.execute(sa.delete(Thread).where(Thread.id == thread.id))
    db.session.commit()

    for model in (Message, Artifact, Document):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0, model
    task = db.session.scalar(sa.select(Task))
    assert task is not None and task.thread_id is None


def test_deleting_a_document_cascades_to_its_chunks(ctx) -> None:
    user = _user()
    project = Project(user_id=user.id, name="Acme")
    db.session.add(project)
    db.session.flush()
    document = _document(user, project_id=project.id)
    db.session.add(document)
    db.session.flush()
    db.session.add(DocumentChunk(document_id=document.id, ordinal=0, text="hello"))
    db.session.commit()

    db.session.execute(sa.delete(Document))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DocumentChunk)) == 0


@pytest.mark.parametrize("owner", ["neither", "both"])
def test_a_document_belongs_to_exactly_one_of_project_or_thread(ctx, owner: str) -> None:
    user = _user()
    project = Project(user_id=user.id, name="Acme")
    thread = Thread(user_id=user.id, model_provider="offline")
    db.session.add_all([project, thread])
    db.session.flush()
    owners = {} if owner == "neither" else {"project_id": project.id, "thread_id": thread.id}
    db.session.add(_document(user, **owners))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_thread_type_defaults_to_ba_assistant_in_the_database(ctx) -> None:
    user = _user()
    db.session.execute(
        sa.text(
            "INSERT INTO threads (id, user_id, title_locked, model_provider, created_at, last_activity_at) "
            "VALUES ('t1', :user, false, 'offline', :now, :now)"
        ),
        {"user": user.id, "now": "2026-01-01 00:00:00"},
    )
    assert db.session.get(Thread, "t1").thread_type == "ba_assistant"


def test_thread_type_and_mode_are_validated_in_python(ctx) -> None:
    with pytest.raises(ValueError, match="thread_type"):
        Thread(thread_type="chatbot", model_provider="offline")
    with pytest.raises(ValueError, match="conversation_mode"):
        Thread(conversation_mode="brainstorm", model_provider="offline")
    assert Thread(thread_type="assistant", conversation_mode=None, model_provider="offline").thread_type == "assistant"


def test_thread_type_is_checked_by_the_database_too(ctx) -> None:
    user = _user()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.text(
                "INSERT INTO threads (id, user_id, title_locked, model_provider, thread_type, created_at, last_activity_at) "
                "VALUES ('t2', :user, false, 'offline', 'bogus', :now, :now)"
            ),
            {"user": user.id, "now": "2026-01-01 00:00:00"},
        )
    db.session.rollback()


def test_model_provider_is_required(ctx) -> None:
    user = _user()
    db.session.add(Thread(user_id=user.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_foreign_keys_are_enforced(ctx) -> None:
    db.session.add(Project(user_id="no-such-user", name="Orphan"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_deleting_a_user_removes_everything_they_own(ctx) -> None:
    user = _user()
    project = Project(user_id=user.id, name="Acme")
    db.session.add(project)
    db.session.flush()
    db.session.add_all(
        [Thread(user_id=user.id, project_id=project.id, model_provider="offline"), Task(user_id=user.id, title="Call")]
    )
    db.session.commit()
    db.session.execute(sa.delete(User))
    db.session.commit()
    for model in (Project, Thread, Task):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_timestamps_come_back_as_utc(ctx) -> None:
    user = _user()
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, user.id).created_at.tzinfo == UTC


def test_sqlite_runs_in_wal_mode(ctx) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
