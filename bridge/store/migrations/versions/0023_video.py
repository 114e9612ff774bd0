"""Video media: duration, poster frame, captions file or a "no speech" declaration

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 22:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): a batch copy of `media` is not needed for nullable columns.
    op.add_column('media', sa.Column('duration_ms', sa.Integer(), nullable=True))
    op.add_column('media', sa.Column('poster_filename', sa.String(length=80), nullable=True))
    op.add_column('media', sa.Column('captions_filename', sa.String(length=80), nullable=True))
    op.add_column('media', sa.Column('no_speech', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('media') as batch:
        batch.drop_column('no_speech')
        batch.drop_column('captions_filename')
        batch.drop_column('poster_filename')
        batch.drop_column('duration_ms')
