"""quote grants: FEP-044f QuoteAuthorizations given for our posts (consent store)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quote_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('actor_name', sa.String(length=30), nullable=False),
    sa.Column('post_id', sa.BigInteger(), nullable=False),
    sa.Column('enc_instrument', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_quote_grant_subject_id_subject'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_grant')),
    sa.UniqueConstraint('token', name=op.f('uq_quote_grant_token'))
    )
    with op.batch_alter_table('quote_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_grant_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quote_grant_subject_id'), ['subject_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quote_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_grant_subject_id'))
        batch_op.drop_index(batch_op.f('ix_quote_grant_post_id'))
    op.drop_table('quote_grant')
