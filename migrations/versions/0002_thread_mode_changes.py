"""Mode changes kept on the thread, so the conversation can show where each one happened.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('threads', sa.Column('mode_changes', sa.JSON(), nullable=True))


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would drop it, and with
    # foreign keys on, that would delete every message through the cascade.
    op.drop_column('threads', 'mode_changes')
