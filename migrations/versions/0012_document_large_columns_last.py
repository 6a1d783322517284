"""On SQLite, a document's extracted text and original bytes move to the end of its row.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 04:30:00.000000

SQLite keeps a row's values in column order and spills a large value into a chain of overflow
pages; reading any column after it walks that chain. `original` and `extracted_text` came before
`metadata`, `created_at` and `status`, so listing a project's documents read through every
file's bytes and text (some 12,000 pages for a 24 MB text file). Added anew, they go last.
PostgreSQL keeps large values out of line and is left as it is; column order is not part of the
schema, so going back changes nothing.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# In their new order: the bytes last, as they are read least.
LARGE_COLUMNS = [("extracted_text", "TEXT", "''"), ("original", "BLOB", "x''")]


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, type_, empty in LARGE_COLUMNS:
        op.execute(f"ALTER TABLE documents ADD COLUMN {name}_moved {type_} NOT NULL DEFAULT {empty}")
    op.execute("UPDATE documents SET extracted_text_moved = extracted_text, original_moved = original")
    for name, _, _ in LARGE_COLUMNS:
        op.execute(f"ALTER TABLE documents DROP COLUMN {name}")
        op.execute(f"ALTER TABLE documents RENAME COLUMN {name}_moved TO {name}")


def downgrade():
    pass
