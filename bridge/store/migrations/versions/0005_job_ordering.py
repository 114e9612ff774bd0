"""job ordering key: deliveries to one inbox for one post run in order

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 00:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ordering_key', sa.String(length=300), nullable=True))
        batch_op.create_index(batch_op.f('ix_job_ordering_key'), ['ordering_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_ordering_key'))
        batch_op.drop_column('ordering_key')
