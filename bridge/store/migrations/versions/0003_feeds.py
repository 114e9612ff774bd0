"""public pages and feeds: hashtag index, feed import state, listing indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

import regex


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:

    op.create_table('post_tag',
    sa.Column('tag', sa.String(length=100), nullable=False),
    sa.Column('post_id', BIG_ID, nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_post_tag_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tag', 'post_id', name=op.f('pk_post_tag'))
    )
    with op.batch_alter_table('post_tag', schema=None) as batch_op:
        batch_op.create_index('ix_post_tag_post_id', ['post_id'], unique=False)

    op.create_table('imported_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_name', sa.String(length=30), nullable=False),
    sa.Column('guid_sha256', sa.String(length=64), nullable=False),
    sa.Column('post_id', BIG_ID, nullable=True),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_imported_item_post_id_post'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_item'))
    )
    with op.batch_alter_table('imported_item', schema=None) as batch_op:
        batch_op.create_index('ix_imported_item_actor_guid', ['actor_name', 'guid_sha256'], unique=True)

    op.create_table('feed_import_state',
    sa.Column('actor_name', sa.String(length=30), nullable=False),
    sa.Column('feed_url', sa.Text(), nullable=False),
    sa.Column('etag', sa.String(length=200), nullable=True),
    sa.Column('last_modified', sa.String(length=64), nullable=True),
    sa.Column('primed', sa.Boolean(), nullable=False),
    sa.Column('last_polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_reason', sa.String(length=40), nullable=True),
    sa.Column('last_description', sa.Text(), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('posts_created', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('actor_name', name=op.f('pk_feed_import_state'))
    )
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.create_index('ix_post_actor_state_id', ['actor_id', 'state', 'id'], unique=False)
        batch_op.create_index('ix_post_state_id', ['state', 'id'], unique=False)

    _index_existing_tags()


# The hashtag rule as it stood at this revision, frozen here: a migration must give the same result whatever
# the application's text parser becomes later. Earliest match wins; a hashtag inside a link or a mention is
# part of it.
_URL = regex.compile(r"https?://[^\s<>\"'\]\[]+", regex.IGNORECASE)
_HASHTAG = regex.compile(r"(?<![\p{L}\p{N}_/#&])#(\p{L}[\p{L}\p{N}_]*|[\p{N}_]+\p{L}[\p{L}\p{N}_]*)")
_MENTION = regex.compile(
    r"(?<![\p{L}\p{N}_/@.])@([A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*)(?:@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+))?")
_TRAILING = ".,:;!?)'\""


def _url_end(m) -> int:
    url = m.group(0)
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return m.start() + len(url) if len(url) > len("https://") else -1


def _hashtags(text: str) -> list[str]:
    spans = [(m.start(), _url_end(m), None) for m in _URL.finditer(text)]
    spans += [(m.start(), m.end(), m.group(1)) for m in _HASHTAG.finditer(text)]
    spans += [(m.start(), m.end(), None) for m in _MENTION.finditer(text)]
    seen: dict[str, str] = {}
    pos = 0
    for start, end, tag in sorted((s for s in spans if s[1] > s[0]), key=lambda x: (x[0], -x[1])):
        if start < pos:
            continue
        pos = end
        if tag is not None:
            seen.setdefault(tag.lower(), tag)
    return list(seen.values())


def _index_existing_tags() -> None:
    # Posts published before this revision get their hashtags indexed once, as publication would.
    conn = op.get_bind()
    post = sa.table('post', sa.column('id', BIG_ID), sa.column('text', sa.Text()), sa.column('state', sa.String()))
    post_tag = sa.table('post_tag', sa.column('tag', sa.String()), sa.column('post_id', BIG_ID))
    rows = conn.execute(sa.select(post.c.id, post.c.text).where(post.c.state == 'published')).all()
    values = [{'tag': tag.lower()[:100], 'post_id': post_id}
              for post_id, text in rows for tag in _hashtags(text)]
    if values:
        conn.execute(post_tag.insert(), values)


def downgrade() -> None:

    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_index('ix_post_state_id')
        batch_op.drop_index('ix_post_actor_state_id')

    op.drop_table('feed_import_state')
    with op.batch_alter_table('imported_item', schema=None) as batch_op:
        batch_op.drop_index('ix_imported_item_actor_guid')

    op.drop_table('imported_item')
    with op.batch_alter_table('post_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_post_tag_post_id')

    op.drop_table('post_tag')
