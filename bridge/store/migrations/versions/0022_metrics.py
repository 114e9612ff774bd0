"""The platforms' own public counts per mirrored post (likes, reposts, replies …) and when they were fetched;
an event change waiting with a four-eyes edit

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 21:55:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite has both): a batch copy would drop a table that others refer to.
    op.add_column('platform_send', sa.Column('metrics', sa.JSON(), nullable=True))
    op.add_column('platform_send', sa.Column('metrics_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('post_edit', sa.Column('event', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('post_edit', 'event')
    op.drop_column('platform_send', 'metrics_at')
    op.drop_column('platform_send', 'metrics')
