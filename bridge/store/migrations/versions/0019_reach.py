"""Reach without tracking: page views per page and day, feed subscribers per aggregator and day

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 21:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('page_view',
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('path', 'day', name=op.f('pk_page_view')),
    )
    op.create_table('feed_subscribers',
    sa.Column('feed', sa.String(length=300), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('aggregator', sa.String(length=40), nullable=False),
    sa.Column('subscribers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('feed', 'day', 'aggregator', name=op.f('pk_feed_subscribers')),
    )


def downgrade() -> None:
    op.drop_table('feed_subscribers')
    op.drop_table('page_view')
