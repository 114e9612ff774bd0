"""Video media converted by a queue job: its processing state, the raw upload and the failure reason

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 00:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every existing row was converted inside its upload request: ready.
    op.add_column('media', sa.Column('state', sa.String(length=16), nullable=False, server_default='ready'))
    op.add_column('media', sa.Column('raw_filename', sa.String(length=80), nullable=True))
    op.add_column('media', sa.Column('failure', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('media') as batch:
        batch.drop_column('failure')
        batch.drop_column('raw_filename')
        batch.drop_column('state')
