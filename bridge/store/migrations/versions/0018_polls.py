"""Polls: a post's poll with its tally, and the pseudonymous votes while it is open

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 21:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('poll',
    sa.Column('post_id', BIG, autoincrement=False, nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('multiple', sa.Boolean(), nullable=False),
    sa.Column('hide_totals', sa.Boolean(), nullable=False),
    sa.Column('expires_in', sa.Integer(), nullable=False),
    sa.Column('expires_at', UTC, nullable=True),
    sa.Column('closed_at', UTC, nullable=True),
    sa.Column('voters_count', sa.Integer(), nullable=False),
    sa.Column('voter_inboxes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_poll_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_poll')),
    )
    op.create_table('poll_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', BIG, nullable=False),
    sa.Column('voter', sa.String(length=40), nullable=False),
    sa.Column('choice', sa.Integer(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['poll.post_id'], name=op.f('fk_poll_vote_post_id_poll'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_vote')),
    sa.UniqueConstraint('post_id', 'voter', 'choice', name='uq_poll_vote_post_id'),
    )
    op.create_index(op.f('ix_poll_vote_post_id'), 'poll_vote', ['post_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_poll_vote_post_id'), table_name='poll_vote')
    op.drop_table('poll_vote')
    op.drop_table('poll')
