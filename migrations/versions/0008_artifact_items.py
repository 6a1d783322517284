"""Structured items (user stories, requirements) inside artifact versions, with the passages they cite.

Existing artifacts keep their Markdown as it is and have no items.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('artifacts', sa.Column('intro_markdown', sa.Text(), server_default='', nullable=False))
    op.create_table('artifact_items',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('artifact_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('as_a', sa.Text(), nullable=False),
    sa.Column('i_want', sa.Text(), nullable=False),
    sa.Column('so_that', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('acceptance_criteria', sa.JSON(), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=True),
    sa.Column('estimate', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('requirement_key', sa.String(length=20), nullable=True),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('story', 'requirement')", name=op.f('ck_artifact_items_kind')),
    sa.CheckConstraint("status IN ('draft', 'review', 'approved')", name=op.f('ck_artifact_items_status')),
    sa.CheckConstraint("priority IS NULL OR priority IN ('must', 'should', 'could', 'wont')",
                       name=op.f('ck_artifact_items_priority')),
    sa.ForeignKeyConstraint(['artifact_id'], ['artifacts.id'], name=op.f('fk_artifact_items_artifact_id_artifacts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_artifact_items')),
    sa.UniqueConstraint('artifact_id', 'key', name=op.f('uq_artifact_items_artifact_id_key'))
    )
    with op.batch_alter_table('artifact_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_artifact_items_artifact_id'), ['artifact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_artifact_items_is_current'), ['is_current'], unique=False)

    op.create_table('item_sources',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('chunk_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.String(length=36), nullable=True),
    sa.Column('document_name', sa.String(length=255), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=True),
    sa.Column('sheet', sa.String(length=100), nullable=True),
    sa.Column('excerpt', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['chunk_id'], ['document_chunks.id'], name=op.f('fk_item_sources_chunk_id_document_chunks'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['artifact_items.id'], name=op.f('fk_item_sources_item_id_artifact_items'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_sources'))
    )
    with op.batch_alter_table('item_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_sources_chunk_id'), ['chunk_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_sources_item_id'), ['item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('item_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_sources_item_id'))
        batch_op.drop_index(batch_op.f('ix_item_sources_chunk_id'))
    op.drop_table('item_sources')
    with op.batch_alter_table('artifact_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_artifact_items_is_current'))
        batch_op.drop_index(batch_op.f('ix_artifact_items_artifact_id'))
    op.drop_table('artifact_items')
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would drop it, and with
    # foreign keys on, that would delete every later version through the cascade.
    op.drop_column('artifacts', 'intro_markdown')
