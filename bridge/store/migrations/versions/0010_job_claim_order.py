"""job claim order: ix_job_due covers (state, run_at, id), the claim's whole ORDER BY

A fan-out creates thousands of jobs with one run_at; with the index on (state, run_at) alone PostgreSQL
read and sorted all of them on every claim to find the first ids. SQLite keys every index by rowid
already, so there the new index is the old one.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 05:00:00.000000
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job') as batch_op:
        batch_op.drop_index('ix_job_due')
        batch_op.create_index('ix_job_due', ['state', 'run_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('job') as batch_op:
        batch_op.drop_index('ix_job_due')
        batch_op.create_index('ix_job_due', ['state', 'run_at'], unique=False)
