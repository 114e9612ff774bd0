"""Which warning a post was made for, as a table keyed by the post (the permalink's lookup by key)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 00:15:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'warning_post',
        sa.Column('post_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('warning_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['post.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['warning_id'], ['official_warning.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('post_id'),
    )
    op.create_index(op.f('ix_warning_post_warning_id'), 'warning_post', ['warning_id'], unique=False)
    # The lists written so far; a post named by two warnings keeps the newer one, as the old lookup did.
    connection = op.get_bind()
    warnings = sa.table('official_warning', sa.column('id', sa.Integer()), sa.column('post_ids', sa.JSON()))
    posts = sa.table('post', sa.column('id', sa.BigInteger()))
    rows = {}
    for warning_id, post_ids in connection.execute(sa.select(warnings.c.id, warnings.c.post_ids)
                                                   .order_by(warnings.c.id)):
        for post_id in post_ids or []:
            rows[int(post_id)] = warning_id
    named = list(rows)
    existing = set()
    for start in range(0, len(named), 500):
        chunk = named[start:start + 500]
        existing.update(connection.execute(sa.select(posts.c.id).where(posts.c.id.in_(chunk))).scalars())
    if existing:
        op.bulk_insert(table, [{'post_id': p, 'warning_id': rows[p]} for p in sorted(existing)])


def downgrade() -> None:
    op.drop_index(op.f('ix_warning_post_warning_id'), table_name='warning_post')
    op.drop_table('warning_post')
