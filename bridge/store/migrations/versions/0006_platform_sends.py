"""outbound bridge: send state per (post, platform) and platform account state

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 00:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('platform_send',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', BIG_ID, nullable=False),
    sa.Column('platform_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('handle', sa.String(length=100), nullable=False),
    sa.Column('remote_id', sa.String(length=300), nullable=True),
    sa.Column('remote_url', sa.String(length=500), nullable=True),
    sa.Column('remote_extra', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=True),
    sa.Column('last_action', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('first_sent_at', UTC, nullable=True),
    sa.Column('updated_at', UTC, nullable=False),
    sa.Column('sent_at', UTC, nullable=True),
    sa.Column('backfeed_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_platform_send_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_send')),
    sa.UniqueConstraint('post_id', 'platform_id', name=op.f('uq_platform_send_post_id')),
    )
    with op.batch_alter_table('platform_send', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_send_post_id'), ['post_id'], unique=False)

    op.create_table('platform_account',
    sa.Column('platform_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=True),
    sa.Column('paused_until', UTC, nullable=True),
    sa.Column('sealed_session', sa.LargeBinary(), nullable=True),
    sa.Column('limits', sa.JSON(), nullable=False),
    sa.Column('cursor', sa.String(length=100), nullable=True),
    sa.Column('token_expires_at', UTC, nullable=True),
    sa.Column('checked_at', UTC, nullable=True),
    sa.Column('updated_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('platform_id', name=op.f('pk_platform_account')),
    )


def downgrade() -> None:
    op.drop_table('platform_account')
    with op.batch_alter_table('platform_send', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_send_post_id'))
    op.drop_table('platform_send')
