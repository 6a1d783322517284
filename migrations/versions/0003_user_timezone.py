"""The user's time zone, for their "today" (overdue tasks, the date the model is told).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would drop it, and with
    # foreign keys on, that would delete every row that belongs to a user through the cascade.
    op.drop_column('users', 'timezone')
