"""Messages form a tree: each one names the message it answers or follows, and a thread
remembers the branch the user picked.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 01:00:00.000000

Every existing chat becomes a single branch: each message follows the one written before it in
its thread. Deleted messages waiting for their undo window to pass are links of that chain too:
the pages step over them, an undo puts them back where they were, and the purge joins their
neighbours when it removes them for good. No leaf is stored: without one, a thread shows its
newest branch, which for a single branch is all of it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

FK_NAME = 'fk_messages_parent_id_messages'
INDEX_NAME = 'ix_messages_parent_id'

# One statement on both databases (SQLite 3.33+ has UPDATE ... FROM and window functions).
LINK_EACH_TO_THE_PREVIOUS = """
UPDATE messages SET parent_id = chain.previous_id
FROM (SELECT id, LAG(id) OVER (PARTITION BY thread_id ORDER BY created_at, id) AS previous_id
      FROM messages) AS chain
WHERE messages.id = chain.id AND chain.previous_id IS NOT NULL
"""


def upgrade():
    op.add_column('messages', sa.Column('parent_id', sa.String(length=36), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        _edit_sqlite_messages_table(NO_CONSTRAINT, SQLITE_CONSTRAINT)
    else:
        op.create_foreign_key(FK_NAME, 'messages', 'messages', ['parent_id'], ['id'], ondelete='SET NULL')
    op.create_index(INDEX_NAME, 'messages', ['parent_id'], unique=False)
    op.add_column('threads', sa.Column('current_leaf_id', sa.String(length=36), nullable=True))
    op.execute(LINK_EACH_TO_THE_PREVIOUS)


def downgrade():
    # Every version stays: before the tree, a thread showed all of its messages in order.
    op.drop_column('threads', 'current_leaf_id')
    op.drop_index(INDEX_NAME, table_name='messages')
    if op.get_bind().dialect.name == "sqlite":
        _edit_sqlite_messages_table(SQLITE_CONSTRAINT, NO_CONSTRAINT)
    else:
        op.drop_constraint(FK_NAME, 'messages', type_='foreignkey')
    # A plain DROP COLUMN (SQLite 3.35+), for the reason given in 0003.
    op.drop_column('messages', 'parent_id')


# SQLite adds a column in place, but not a table constraint, and a batch copy of the table would
# renumber the rowids that the messages' full-text index points at (see 0010). So the reference
# is written into the table's definition, as 0010 does for its check: every row meets it, since
# parent_id is empty when it is added and when it is taken away.
NO_CONSTRAINT = "parent_id VARCHAR(36)"
SQLITE_CONSTRAINT = (f"parent_id VARCHAR(36), CONSTRAINT {FK_NAME} FOREIGN KEY(parent_id) "
                     "REFERENCES messages (id) ON DELETE SET NULL")


def _edit_sqlite_messages_table(old: str, new: str) -> None:
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    try:
        changed = bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'messages' "
            "AND instr(sql, ?) > 0", (old, new, old))
        if changed.rowcount != 1:
            raise RuntimeError("the messages table does not have the expected parent_id column")
        bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")
