"""Official warnings lane: job priority (the claim orders by it), post translations (contentMap), warning
sources' poll state, warnings, messages

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 21:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('job') as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), server_default='10', nullable=False))
        batch_op.drop_index('ix_job_due')
        batch_op.create_index('ix_job_due', ['state', 'priority', 'run_at', 'id'], unique=False)
    with op.batch_alter_table('post') as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))
    op.create_table('warning_source_state',
    sa.Column('source_id', sa.String(length=40), nullable=False),
    sa.Column('last_polled_at', UTC, nullable=True),
    sa.Column('last_success_at', UTC, nullable=True),
    sa.Column('next_poll_at', UTC, nullable=True),
    sa.Column('last_reason', sa.String(length=40), nullable=True),
    sa.Column('last_description', sa.String(length=2000), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('etag', sa.String(length=200), nullable=True),
    sa.Column('last_modified', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('source_id', name=op.f('pk_warning_source_state')),
    )
    op.create_table('official_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.String(length=40), nullable=False),
    sa.Column('sender', sa.String(length=200), nullable=False),
    sa.Column('identifier', sa.String(length=300), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('msg_type', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('event', sa.String(length=200), nullable=False),
    sa.Column('headline', sa.String(length=500), nullable=False),
    sa.Column('sent', UTC, nullable=False),
    sa.Column('expires', UTC, nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('post_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_official_warning')),
    )
    op.create_index(op.f('ix_official_warning_source_id'), 'official_warning', ['source_id'], unique=False)
    op.create_index(op.f('ix_official_warning_state'), 'official_warning', ['state'], unique=False)
    op.create_table('warning_message',
    sa.Column('key_sha256', sa.String(length=64), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=True),
    sa.Column('source_id', sa.String(length=40), nullable=False),
    sa.Column('msg_type', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('seen_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['warning_id'], ['official_warning.id'],
                            name=op.f('fk_warning_message_warning_id_official_warning'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key_sha256', name=op.f('pk_warning_message')),
    )
    op.create_index(op.f('ix_warning_message_warning_id'), 'warning_message', ['warning_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_warning_message_warning_id'), table_name='warning_message')
    op.drop_table('warning_message')
    op.drop_index(op.f('ix_official_warning_state'), table_name='official_warning')
    op.drop_index(op.f('ix_official_warning_source_id'), table_name='official_warning')
    op.drop_table('official_warning')
    op.drop_table('warning_source_state')
    with op.batch_alter_table('post') as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('job') as batch_op:
        batch_op.drop_index('ix_job_due')
        batch_op.create_index('ix_job_due', ['state', 'run_at', 'id'], unique=False)
        batch_op.drop_column('priority')
