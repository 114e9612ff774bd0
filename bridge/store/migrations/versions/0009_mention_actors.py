"""remote mentions resolved by WebFinger: post.mention_actors (handle → actor id)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 03:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('post') as batch_op:
        batch_op.add_column(sa.Column('mention_actors', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('post') as batch_op:
        batch_op.drop_column('mention_actors')
