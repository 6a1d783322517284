"""Accounts for a team: signed-in sessions, single sign-on identities, one-time links, the security log,
and per-user state (disabled, last sign-in, own monthly budget).

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-04 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None

USER_COLUMNS = ('disabled_at', 'last_login_at', 'monthly_budget_usd')


def _owner():
    return sa.Column('user_id', sa.String(length=36), nullable=False)


def upgrade():
    op.add_column('users', sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('monthly_budget_usd', sa.Numeric(precision=12, scale=2), nullable=True))
    op.create_table(
        'login_sessions',
        sa.Column('id', sa.String(length=36), nullable=False),
        _owner(),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('remember', sa.Boolean(), nullable=False),
        sa.Column('method', sa.String(length=40), nullable=False),
        sa.Column('ip', sa.String(length=45), nullable=True),
        sa.Column('user_agent', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_login_sessions_user_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_login_sessions'),
        sa.UniqueConstraint('token_hash', name='uq_login_sessions_token_hash'),
    )
    op.create_index('ix_login_sessions_user_id', 'login_sessions', ['user_id'])
    op.create_table(
        'identities',
        sa.Column('id', sa.String(length=36), nullable=False),
        _owner(),
        sa.Column('provider', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_identities_user_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_identities'),
        sa.UniqueConstraint('provider', 'subject', name='uq_identities_provider_subject'),
    )
    op.create_index('ix_identities_user_id', 'identities', ['user_id'])
    op.create_table(
        'account_links',
        sa.Column('id', sa.String(length=36), nullable=False),
        _owner(),
        sa.Column('purpose', sa.String(length=10), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.String(length=36), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("purpose IN ('invite', 'reset')", name='ck_account_links_purpose'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_account_links_user_id_users', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name='fk_account_links_created_by_id_users',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_account_links'),
        sa.UniqueConstraint('token_hash', name='uq_account_links_token_hash'),
    )
    op.create_index('ix_account_links_user_id', 'account_links', ['user_id'])
    op.create_table(
        'security_events',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=True),
        sa.Column('actor_id', sa.String(length=36), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('actor_email', sa.String(length=254), nullable=False),
        sa.Column('ip', sa.String(length=45), nullable=True),
        sa.Column('detail', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_security_events_user_id_users', ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name='fk_security_events_actor_id_users',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_security_events'),
    )
    op.create_index('ix_security_events_created_at', 'security_events', ['created_at'])
    op.create_index('ix_security_events_user_id', 'security_events', ['user_id'])
    op.create_index('ix_security_events_event_created', 'security_events', ['event', 'created_at'])


def downgrade():
    for table in ('security_events', 'account_links', 'identities', 'login_sessions'):
        op.drop_table(table)
    # Plain DROP COLUMN (SQLite 3.35+), as in 0003: a batch copy of users would cascade deletes.
    for column in reversed(USER_COLUMNS):
        op.drop_column('users', column)
