"""Replies cut off by their provider, leases on streaming replies, stop requests, estimated usage.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD_STATUSES = "'streaming', 'complete', 'stopped', 'error', 'interrupted'"
NEW_STATUSES = f"{OLD_STATUSES}, 'cut'"


def upgrade():
    op.add_column('messages', sa.Column('cut_reason', sa.String(length=20), nullable=True))
    op.add_column('messages', sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('messages', sa.Column('stop_requested', sa.Boolean(), server_default=sa.false(),
                                        nullable=False))
    op.add_column('token_usage', sa.Column('estimated', sa.Boolean(), server_default=sa.false(),
                                           nullable=False))
    _change_status_check(OLD_STATUSES, NEW_STATUSES)


def downgrade():
    # A cut reply ended with text the user kept: the nearest status before cuts existed.
    op.execute("UPDATE messages SET status = 'complete' WHERE status = 'cut'")
    _change_status_check(NEW_STATUSES, OLD_STATUSES)
    # Plain DROP COLUMNs (SQLite 3.35+), for the reason given in 0003.
    op.drop_column('token_usage', 'estimated')
    op.drop_column('messages', 'stop_requested')
    op.drop_column('messages', 'lease_until')
    op.drop_column('messages', 'cut_reason')


def _change_status_check(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_sqlite_check(old, new)
        return
    op.drop_constraint(op.f('ck_messages_status'), 'messages', type_='check')
    op.create_check_constraint(op.f('ck_messages_status'), 'messages', f"status IN ({new})")


def _rewrite_sqlite_check(old: str, new: str) -> None:
    # SQLite cannot alter a CHECK constraint, and copying the table would renumber the rowids
    # that the messages' full-text index points at (and, with foreign keys on, set the links
    # of usage rows and artifacts to NULL). Its documented alternative for a constraint that
    # every row already meets: edit the table's definition in place and bump the schema version.
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    try:
        changed = bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'messages' "
            "AND instr(sql, ?) > 0", (f"status IN ({old})", f"status IN ({new})", f"status IN ({old})"))
        if changed.rowcount != 1:
            raise RuntimeError("the messages table does not have the expected status constraint")
        bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")
