"""Read versions: a change counter and the published posts per account, for the instance and for shown replies

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 21:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('read_version',
    sa.Column('scope', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('posts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_read_version')),
    )
    # The counts start from the posts stored; from here on the application keeps them in step.
    op.execute("INSERT INTO read_version (scope, version, posts) "
               "SELECT actor.id, 1, (SELECT count(*) FROM post WHERE post.actor_id = actor.id "
               "AND post.state = 'published') FROM actor")
    op.execute("INSERT INTO read_version (scope, version, posts) "
               "SELECT 0, 1, (SELECT count(*) FROM post WHERE post.state = 'published')")
    op.execute("INSERT INTO read_version (scope, version, posts) VALUES (-1, 1, 0)")


def downgrade() -> None:
    op.drop_table('read_version')
