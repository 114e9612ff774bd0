"""dialogue desk: answers to platform replies, how each reply is handled, answer templates

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 21:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('platform_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reply_id', sa.Integer(), nullable=False),
    sa.Column('post_id', BIG_ID, nullable=False),
    sa.Column('platform_id', sa.String(length=64), nullable=False),
    sa.Column('actor_name', sa.String(length=30), nullable=False),
    sa.Column('text', sa.String(length=5000), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('handle', sa.String(length=100), nullable=False),
    sa.Column('remote_id', sa.String(length=300), nullable=True),
    sa.Column('remote_url', sa.String(length=500), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('first_sent_at', UTC, nullable=True),
    sa.Column('updated_at', UTC, nullable=False),
    sa.Column('sent_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_platform_answer_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_answer')),
    )
    with op.batch_alter_table('platform_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_answer_reply_id'), ['reply_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_platform_answer_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_platform_answer_platform_id'), ['platform_id'], unique=False)

    op.create_table('reply_handling',
    sa.Column('reply_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('actor_name', sa.String(length=30), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('received_at', UTC, nullable=False),
    sa.Column('first_answer_at', UTC, nullable=True),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'], name=op.f('fk_reply_handling_assignee_id_user_account'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('reply_id', name=op.f('pk_reply_handling')),
    )
    with op.batch_alter_table('reply_handling', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_handling_actor_name'), ['actor_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_reply_handling_first_answer_at'), ['first_answer_at'], unique=False)

    op.create_table('answer_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_name', sa.String(length=30), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.String(length=5000), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_template')),
    )
    with op.batch_alter_table('answer_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_template_actor_name'), ['actor_name'], unique=False)


def downgrade() -> None:
    op.drop_table('answer_template')
    op.drop_table('reply_handling')
    op.drop_table('platform_answer')
