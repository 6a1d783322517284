"""Import jobs, a document status, and one word handling for full-text search on PostgreSQL.

Documents get a status (processing until their import job stores or refuses them); each upload
gets an import job. On PostgreSQL the passages and messages are indexed with the `ba_english`
configuration: English stemming and stop words, with accents removed by `unaccent`, as SQLite's
FTS5 tables (remove_diacritics) already do.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _index_with(config: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS ix_messages_fts",
        "DROP INDEX IF EXISTS ix_document_chunks_fts",
        "ALTER TABLE document_chunks DROP COLUMN IF EXISTS text_fts",
        f"""ALTER TABLE document_chunks ADD COLUMN text_fts tsvector
            GENERATED ALWAYS AS (to_tsvector('{config}', text)) STORED""",
        "CREATE INDEX ix_document_chunks_fts ON document_chunks USING gin (text_fts)",
        f"CREATE INDEX ix_messages_fts ON messages USING gin (to_tsvector('{config}', content)) "
        "WHERE status <> 'streaming'",
    ]


POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION ba_english (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION ba_english ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
    *_index_with("ba_english"),
]
POSTGRES_DOWN = [*_index_with("english"), "DROP TEXT SEARCH CONFIGURATION IF EXISTS ba_english"]


def upgrade():
    op.create_table('import_jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('document_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('progress', sa.String(length=200), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('peak_memory_kb', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('waiting', 'queued', 'running', 'finished')", name=op.f('ck_import_jobs_state')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_import_jobs_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_jobs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs')),
    sa.UniqueConstraint('document_id', name=op.f('uq_import_jobs_document_id'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_import_jobs_state_created', ['state', 'created_at'], unique=False)
        batch_op.create_index('ix_import_jobs_user_state', ['user_id', 'state'], unique=False)

    # A plain ADD COLUMN: rebuilding the table on SQLite would cascade into its passages.
    op.add_column('documents', sa.Column('status', sa.String(length=20), server_default='stored', nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
    op.drop_column('documents', 'status')
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_import_jobs_user_state')
        batch_op.drop_index('ix_import_jobs_state_created')
    op.drop_table('import_jobs')
