"""The migrations build the schema from nothing, round-trip, and agree with the models."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from webapp.database import include_object
from webapp.extensions import db

from ..conftest import make_app
from ..databases import fresh_postgres_database, require_postgres, sqlite_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path):
    with ExitStack() as stack:
        if request.param == "postgresql":
            require_postgres()
            yield stack.enter_context(fresh_postgres_database())
        else:
            yield sqlite_url(tmp_path)


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    app = make_app(empty_database)
    with app.app_context():
        upgrade()
        assert {
            "users",
            "projects",
            "documents",
            "document_chunks",
            "threads",
            "messages",
            "artifacts",
            "tasks",
            "token_usage",
        } <= _tables(db.engine)
        downgrade(revision="base")
        assert _tables(db.engine) <= {"alembic_version"}
        upgrade()
        assert "messages" in _tables(db.engine)
        db.engine.dispose()


def test_models_and_migrations_agree(empty_database: str) -> None:
    app = make_app(empty_database)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": include_object, "compare_type": True}
            )
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_existing_artifacts_migrate_unchanged(empty_database: str) -> None:
    from werkzeug.security import generate_password_hash

    from ..conftest import PASSWORD, AuthActions

    app = make_app(empty_database)
    markdown = "# Checkout stories\n\n- As a shopper I want to pay by card\n"
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, password_hash, display_name, is_admin, theme, created_at) "
                    "VALUES ('u1', 'ana@example.com', :hash, 'Ana', true, 'system', CURRENT_TIMESTAMP)"
                ),
                {"hash": generate_password_hash(PASSWORD)},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO threads (id, user_id, title, title_locked, model_provider, thread_type, created_at, "
                    "last_activity_at) VALUES ('t1', 'u1', 'Chat', false, 'offline', 'ba_assistant', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                )
            )
            for version, artifact_id, root in ((1, "a1", None), (2, "a2", "a1")):
                connection.execute(
                    sa.text(
                        "INSERT INTO artifacts (id, thread_id, first_version_id, artifact_type, title, content_markdown, "
                        "version, created_at) VALUES (:id, 't1', :root, 'user_stories', 'Checkout stories', :content, "
                        ":version, CURRENT_TIMESTAMP)"
                    ),
                    {"id": artifact_id, "root": root, "content": markdown + "v" * version, "version": version},
                )
        upgrade()
        db.engine.dispose()
    client = app.test_client()
    AuthActions(client).login()
    page = client.get("/artifacts/a2").get_data(as_text=True)
    assert "Version 2 of 2" in page and "As a shopper I want to pay by card" in page and 'id="item-' not in page
    assert client.get("/artifacts/a2/export.md").get_data(as_text=True) == markdown + "vv"
    assert client.get("/artifacts/a2/export.jira.csv").status_code == 409
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT id, intro_markdown FROM artifacts ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [("a1", ""), ("a2", "")]
        db.session.remove()
        downgrade(revision="0004")
        with db.engine.connect() as connection:
            kept = connection.execute(sa.text("SELECT content_markdown FROM artifacts ORDER BY id")).scalars().all()
        assert kept == [markdown + "v", markdown + "vv"]
        db.engine.dispose()


def _insert_chat(connection: sa.Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO users (id, email, password_hash, display_name, is_admin, theme, created_at) "
            "VALUES ('u', 'a@example.com', 'x', 'A', false, 'system', CURRENT_TIMESTAMP)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO threads (id, user_id, title_locked, model_provider, thread_type, created_at, last_activity_at) "
            "VALUES ('t', 'u', false, 'offline', 'assistant', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO messages (id, thread_id, role, content, status, input_tokens, output_tokens, stream_seq, "
            "created_at, updated_at) VALUES ('m', 't', 'assistant', 'the zeppelin rollout', 'complete', 1, 1, 0, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO token_usage (id, user_id, thread_id, message_id, provider, model, purpose, input_tokens, "
            "output_tokens, cost, created_at) VALUES ('k', 'u', 't', 'm', 'offline', 'x', 'chat', 1, 1, 0, CURRENT_TIMESTAMP)"
        )
    )


def test_cut_replies_and_leases_migrate_both_ways_keeping_links_and_search(empty_database: str) -> None:
    from webapp.threads.search import search_messages

    app = make_app(empty_database)
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            _insert_chat(connection)
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE messages SET status = 'cut', cut_reason = 'length' WHERE id = 'm'"))
            row = connection.execute(sa.text("SELECT stop_requested, lease_until FROM messages WHERE id = 'm'")).one()
            assert not row.stop_requested and row.lease_until is None
            assert not connection.execute(sa.text("SELECT estimated FROM token_usage")).scalar()
        assert [hit.message_id for hit in search_messages("u", "zeppelin")] == ["m"]
        db.session.remove()  # its transaction would hold the table the downgrade alters
        downgrade(revision="0004")
        with db.engine.begin() as connection:
            assert connection.execute(sa.text("SELECT status FROM messages")).scalar() == "complete"
            assert connection.execute(sa.text("SELECT message_id FROM token_usage")).scalar() == "m"
            with pytest.raises(sa.exc.IntegrityError):
                with connection.begin_nested():
                    connection.execute(sa.text("UPDATE messages SET status = 'cut'"))
        upgrade()  # the search of today's code, over the rows that went down and up again
        assert [hit.message_id for hit in search_messages("u", "zeppelin")] == ["m"]
        db.session.remove()
        db.engine.dispose()


def test_an_existing_chat_becomes_one_branch_and_goes_back(empty_database: str) -> None:
    from webapp.chat.branches import selected_path
    from webapp.models import Thread

    app = make_app(empty_database)
    with app.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as connection:
            _insert_chat(connection)  # "m", the first message
            for id_, role, minute, deleted in (
                ("q2", "user", 1, None),
                ("a2", "assistant", 2, "2026-12-01 10:00:00"),
                ("q3", "user", 3, None),
                ("a3", "assistant", 4, None),
            ):
                connection.execute(
                    sa.text(
                        "INSERT INTO messages (id, thread_id, role, content, status, input_tokens, output_tokens, "
                        "stream_seq, stop_requested, deleted_at, created_at, updated_at) VALUES (:id, 't', :role, :content, "
                        "'complete', 0, 0, 0, false, :deleted, :at, :at)"
                    ),
                    {"id": id_, "role": role, "content": id_, "deleted": deleted, "at": f"2099-01-01 10:0{minute}:00"},
                )
        upgrade()
        with db.engine.connect() as connection:
            links = dict(connection.execute(sa.text("SELECT id, parent_id FROM messages")).all())
        # Deleted messages are links of the chain too: an undo puts them back in their place.
        assert links == {"m": None, "q2": "m", "a2": "q2", "q3": "a2", "a3": "q3"}
        thread = db.session.get(Thread, "t")
        assert thread.current_leaf_id is None
        assert [m.id for m in selected_path(thread)] == ["m", "q2", "q3", "a3"]
        with pytest.raises(sa.exc.IntegrityError):  # the reference is a real one, on SQLite too
            with db.session.begin_nested():
                db.session.execute(sa.text("UPDATE messages SET parent_id = 'nowhere' WHERE id = 'a3'"))
        db.session.remove()
        downgrade(revision="0010")
        with db.engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("messages")}
            assert "parent_id" not in columns
            assert connection.execute(sa.text("SELECT count(*) FROM messages")).scalar() == 5
        upgrade()
        db.engine.dispose()


def _add_document_with_its_text(connection: sa.Connection) -> None:
    """A project's document as revisions 0011 and 0012 store it, with its text beside its bytes."""
    connection.execute(
        sa.text(
            "INSERT INTO users (id, email, password_hash, display_name, is_admin, theme, created_at) "
            "VALUES ('u1', 'a@example.com', 'x', 'A', false, 'system', CURRENT_TIMESTAMP)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO projects (id, user_id, name, description, instructions, created_at, "
            "last_activity_at) VALUES ('p1', 'u1', 'P', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO documents (id, user_id, project_id, filename, content_type, size_bytes, sha256, original, "
            "extracted_text, metadata, created_at, status) VALUES ('d1', 'u1', 'p1', 'a.txt', 'text/plain', 3, "
            "'abc', :original, 'the text', '{}', '2026-12-01 10:00:00', 'stored')"
        ),
        {"original": b"\x00\x01\x02"},
    )


def test_documents_keep_their_large_columns_last_on_sqlite(tmp_path: Path) -> None:
    """Listing documents must not read through their bytes: SQLite stores a row in column order."""
    app = make_app(sqlite_url(tmp_path))
    with app.app_context():
        upgrade(revision="0011")
        with db.engine.begin() as connection:
            _add_document_with_its_text(connection)
        upgrade(revision="0012")
        with db.engine.connect() as connection:
            columns = [row[1] for row in connection.execute(sa.text("PRAGMA table_info(documents)"))]
            row = connection.execute(
                sa.text("SELECT original, extracted_text, status FROM documents WHERE id = 'd1'")
            ).one()
        db.engine.dispose()
    assert columns[-2:] == ["extracted_text", "original"]
    assert tuple(row) == (b"\x00\x01\x02", "the text", "stored")


def test_documents_drop_their_unread_copy_of_the_text_and_keep_their_bytes(empty_database: str) -> None:
    app = make_app(empty_database)
    with app.app_context():
        upgrade(revision="0012")
        with db.engine.begin() as connection:
            _add_document_with_its_text(connection)
        upgrade()
        with db.engine.connect() as connection:
            columns = {column["name"] for column in sa.inspect(connection).get_columns("documents")}
            row = connection.execute(sa.text("SELECT original, status FROM documents WHERE id = 'd1'")).one()
            if connection.dialect.name == "postgresql":
                compression = connection.scalar(
                    sa.text(
                        "SELECT attcompression FROM pg_attribute "
                        "WHERE attrelid = 'documents'::regclass AND attname = 'original'"
                    )
                )
                assert compression == "l"  # lz4
        assert "extracted_text" not in columns
        assert (bytes(row.original), row.status) == (b"\x00\x01\x02", "stored")
        downgrade(revision="0012")
        with db.engine.connect() as connection:
            row = connection.execute(sa.text("SELECT original, extracted_text FROM documents WHERE id = 'd1'")).one()
        assert (bytes(row.original), row.extracted_text) == (b"\x00\x01\x02", "")
        upgrade()
        db.engine.dispose()
