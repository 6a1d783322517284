"""A document no longer keeps a second copy of its text; on PostgreSQL its bytes are compressed with lz4.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 07:00:00.000000

The text of a document lives in its passages, which search, citations and the document view
read. `extracted_text` held the same text again and nothing read it, yet every import wrote it:
as much as the file's size once more, compressed on PostgreSQL on the way in.
PostgreSQL compresses large values with pglz unless told otherwise; lz4 compresses a text file
three times faster and reads it back faster too. Only values written from now on are affected,
and only on servers built with lz4 (Debian's and the official images are).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _has_lz4() -> bool:
    values = op.get_bind().scalar(
        sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    )
    return "lz4" in (values or [])


def upgrade():
    op.drop_column('documents', 'extracted_text')
    if op.get_bind().dialect.name == "postgresql" and _has_lz4():
        op.execute("ALTER TABLE documents ALTER COLUMN original SET COMPRESSION lz4")


def downgrade():
    if op.get_bind().dialect.name == "postgresql" and _has_lz4():
        op.execute("ALTER TABLE documents ALTER COLUMN original SET COMPRESSION pglz")
    # The text is not restored: it was never read, and the passages still hold it.
    op.add_column('documents', sa.Column('extracted_text', sa.Text(), nullable=False, server_default=''))
