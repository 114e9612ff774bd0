"""moderation and consent: consent texts, requests and receipts (consent store), domain blocks, and the
answer-as-the-account columns of post

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('consent_text',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('first_used_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_consent_text'))
    )
    op.create_table('consent_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('reply_id', sa.Integer(), nullable=False),
    sa.Column('actor_name', sa.String(length=30), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('dm_hash', sa.String(length=40), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('closed_at', UTC, nullable=True),
    sa.Column('closed_by', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_consent_request_subject_id_subject'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reply_id'], ['reply.id'], name=op.f('fk_consent_request_reply_id_reply'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_request')),
    sa.UniqueConstraint('dm_hash', name=op.f('uq_consent_request_dm_hash')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_consent_request_token_sha256'))
    )
    with op.batch_alter_table('consent_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_request_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_request_reply_id'), ['reply_id'], unique=False)
    op.create_table('consent_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('reply_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('enc_activity_id', sa.LargeBinary(), nullable=False),
    sa.Column('enc_key_id', sa.LargeBinary(), nullable=False),
    sa.Column('activity_hash', sa.String(length=40), nullable=False),
    sa.Column('note_hash', sa.String(length=40), nullable=False),
    sa.Column('given_at', UTC, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('withdrawn_at', UTC, nullable=True),
    sa.Column('withdrawal_channel', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_consent_receipt_subject_id_subject'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reply_id'], ['reply.id'], name=op.f('fk_consent_receipt_reply_id_reply'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['consent_request.id'],
                            name=op.f('fk_consent_receipt_request_id_consent_request'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_receipt'))
    )
    with op.batch_alter_table('consent_receipt', schema=None) as batch_op:
        for column in ('subject_id', 'reply_id', 'request_id', 'activity_hash', 'note_hash'):
            batch_op.create_index(batch_op.f(f'ix_consent_receipt_{column}'), [column], unique=False)
    op.create_table('domain_block',
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('blocked_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('domain', name=op.f('pk_domain_block'))
    )
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_reply_to', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('in_reply_to_actor', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('in_reply_to_handle', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_column('in_reply_to_handle')
        batch_op.drop_column('in_reply_to_actor')
        batch_op.drop_column('in_reply_to')
    op.drop_table('domain_block')
    op.drop_table('consent_receipt')
    op.drop_table('consent_request')
    op.drop_table('consent_text')
