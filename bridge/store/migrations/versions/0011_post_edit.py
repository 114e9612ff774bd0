"""post_edit: an edit of a published post of a four-eyes account waits here for another editor

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('post_edit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('editor_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('spoiler_text', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_post_edit_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['editor_id'], ['user_account.id'], name=op.f('fk_post_edit_editor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_post_edit_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_edit'))
    )
    with op.batch_alter_table('post_edit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_edit_post_id'), ['post_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('post_edit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_edit_post_id'))
    op.drop_table('post_edit')
