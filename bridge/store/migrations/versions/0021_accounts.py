"""Accounts and platform connections live in the database: the actor's profile (copied from the file on the
first start), a version that tells every process to reload, retirement; platform connections with sealed
credentials

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 20:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN, which SQLite has: a batch copy would drop `actor`, which posts and keys refer to.
    op.add_column('actor', sa.Column('profile', sa.JSON(), nullable=True))
    op.add_column('actor', sa.Column('profile_version', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('actor', sa.Column('retired_at', UTC, nullable=True))
    op.create_table('platform_connection',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('api_base', sa.String(length=500), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=8), nullable=False),
    sa.Column('transfer_mechanism', sa.String(length=200), nullable=False),
    sa.Column('sealed_credentials', sa.LargeBinary(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False, server_default='1'),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_connection')),
    )
    op.create_table('platform_oauth_state',
    sa.Column('state_sha256', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.String(length=64), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.Column('expires_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('state_sha256', name=op.f('pk_platform_oauth_state')),
    )


def downgrade() -> None:
    op.drop_table('platform_oauth_state')
    op.drop_table('platform_connection')
    # In place on both databases (SQLite 3.35+): a batch copy would drop `actor`, which other tables refer to.
    for column in ('retired_at', 'profile_version', 'profile'):
        op.execute(f'ALTER TABLE actor DROP COLUMN {column}')
