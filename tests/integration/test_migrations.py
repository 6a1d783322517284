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
        assert {"users", "projects", "documents", "document_chunks", "threads", "messages",
                "artifacts", "tasks", "token_usage"} <= _tables(db.engine)
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
