"""An index for the chat lists' provider filter: which providers a user's chats use, and their pages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 20:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_threads_user_type_provider', 'threads',
                    ['user_id', 'thread_type', 'model_provider', 'last_activity_at'], unique=False)


def downgrade():
    op.drop_index('ix_threads_user_type_provider', table_name='threads')
