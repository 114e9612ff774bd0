"""Worker heartbeats: each running worker's last beat, for the readiness check (`GET /readyz`)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('worker_heartbeat',
    sa.Column('owner', sa.String(length=80), nullable=False),
    sa.Column('started_at', UTC, nullable=False),
    sa.Column('beat_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('owner', name=op.f('pk_worker_heartbeat')),
    )
    op.create_index(op.f('ix_worker_heartbeat_beat_at'), 'worker_heartbeat', ['beat_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_worker_heartbeat_beat_at'), table_name='worker_heartbeat')
    op.drop_table('worker_heartbeat')
