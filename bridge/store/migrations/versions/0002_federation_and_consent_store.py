"""federation and consent store

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:39:50.281834
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('delivery_host',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('failure_days', sa.JSON(), nullable=False),
    sa.Column('open_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unavailable_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('host', name=op.f('pk_delivery_host'))
    )
    op.create_table('inbound_seen',
    sa.Column('id_hash', sa.String(length=40), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_inbound_seen'))
    )
    with op.batch_alter_table('inbound_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_seen_seen_at'), ['seen_at'], unique=False)

    op.create_table('subject',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('objected_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject')),
    sa.UniqueConstraint('pseudonym', name=op.f('uq_subject_pseudonym'))
    )
    op.create_table('follower',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('actor_name', sa.String(length=30), nullable=False),
    sa.Column('enc_follow_id', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_follower_subject_id_subject'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follower')),
    sa.UniqueConstraint('subject_id', 'actor_name', name=op.f('uq_follower_subject_id'))
    )
    with op.batch_alter_table('follower', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follower_actor_name'), ['actor_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_follower_subject_id'), ['subject_id'], unique=False)

    op.create_table('interaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('activity_hash', sa.String(length=40), nullable=False),
    sa.Column('post_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_interaction_subject_id_subject'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interaction')),
    sa.UniqueConstraint('activity_hash', name=op.f('uq_interaction_activity_hash'))
    )
    with op.batch_alter_table('interaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interaction_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interaction_subject_id'), ['subject_id'], unique=False)

    op.create_table('remote_actor',
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('enc_uri', sa.LargeBinary(), nullable=False),
    sa.Column('enc_inbox', sa.LargeBinary(), nullable=False),
    sa.Column('shared_inbox', sa.String(length=2000), nullable=True),
    sa.Column('enc_handle', sa.LargeBinary(), nullable=True),
    sa.Column('enc_name', sa.LargeBinary(), nullable=True),
    sa.Column('signals', sa.JSON(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_remote_actor_subject_id_subject'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subject_id', name=op.f('pk_remote_actor'))
    )
    with op.batch_alter_table('remote_actor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remote_actor_domain'), ['domain'], unique=False)

    op.create_table('reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('object_hash', sa.String(length=40), nullable=False),
    sa.Column('post_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_name', sa.String(length=30), nullable=False),
    sa.Column('enc_object_id', sa.LargeBinary(), nullable=False),
    sa.Column('enc_url', sa.LargeBinary(), nullable=True),
    sa.Column('enc_content', sa.LargeBinary(), nullable=False),
    sa.Column('enc_summary', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('legal_basis', sa.String(length=32), nullable=False),
    sa.Column('signals', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retain_until', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_reply_subject_id_subject'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply')),
    sa.UniqueConstraint('object_hash', name=op.f('uq_reply_object_hash'))
    )
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reply_retain_until'), ['retain_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_reply_subject_id'), ['subject_id'], unique=False)

    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('enc_comment', sa.LargeBinary(), nullable=True),
    sa.Column('post_ids', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_report_subject_id_subject'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report'))
    )



def downgrade() -> None:

    op.drop_table('report')
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_subject_id'))
        batch_op.drop_index(batch_op.f('ix_reply_retain_until'))
        batch_op.drop_index(batch_op.f('ix_reply_post_id'))

    op.drop_table('reply')
    with op.batch_alter_table('remote_actor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remote_actor_domain'))

    op.drop_table('remote_actor')
    with op.batch_alter_table('interaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interaction_subject_id'))
        batch_op.drop_index(batch_op.f('ix_interaction_post_id'))

    op.drop_table('interaction')
    with op.batch_alter_table('follower', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follower_subject_id'))
        batch_op.drop_index(batch_op.f('ix_follower_actor_name'))

    op.drop_table('follower')
    op.drop_table('subject')
    with op.batch_alter_table('inbound_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_seen_seen_at'))

    op.drop_table('inbound_seen')
    op.drop_table('delivery_host')

