"""tamper-evident audit log (leaf hashes, head row, checkpoints, append-only triggers), rights requests,
sign-in security log

Entries written before this revision are renumbered gap-free from 0 (the Merkle leaf index) and hashed
with the same canonical form new entries get, so the whole history is covered by the first checkpoint.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 00:00:00.000000
"""
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa

from consent.auditlog import leaf_of
from consent.canonical import canonical_bytes
from consent.merkle import CompactTree, leaf_hash
from consent.models import AuditEntry

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
APPEND_ONLY = ('audit_entry', 'audit_checkpoint')

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION stadtbote_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_basis', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('retention_class', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('leaf_hash', sa.LargeBinary(length=32), nullable=True))
    _create_tables()
    size, frontier = _hash_history(op.get_bind())
    op.get_bind().execute(sa.text("INSERT INTO audit_head (id, size, frontier) VALUES (1, :size, :frontier)"),
                          {"size": size, "frontier": frontier})
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.alter_column('leaf_hash', existing_type=sa.LargeBinary(length=32), nullable=False)
    _create_triggers(op.get_bind().dialect.name)


def _create_tables() -> None:
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('frontier', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head')),
    )
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('root', sa.LargeBinary(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint')),
    )
    op.create_index(op.f('ix_audit_checkpoint_size'), 'audit_checkpoint', ['size'], unique=False)
    op.create_table('rights_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject_ref', sa.String(length=40), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('received_at', UTC, nullable=False),
    sa.Column('due_at', UTC, nullable=False),
    sa.Column('closed_at', UTC, nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rights_request')),
    )
    op.create_index(op.f('ix_rights_request_subject_ref'), 'rights_request', ['subject_ref'], unique=False)
    op.create_index(op.f('ix_rights_request_state'), 'rights_request', ['state'], unique=False)
    op.create_table('security_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTC, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('user_ref', sa.String(length=40), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('truncated', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_event')),
    )
    op.create_index(op.f('ix_security_event_at'), 'security_event', ['at'], unique=False)


def _hash_history(conn) -> tuple[int, bytes]:
    """Renumber existing entries 0.. in their order (ascending, so no number is taken twice) and hash them."""
    table = AuditEntry.__table__
    columns = [table.c[name] for name in ('seq', 'created_at', 'action', 'actor_role', 'actor_ref', 'subject_ref',
                                          'outcome', 'reason', 'purpose', 'details', 'legal_basis',
                                          'retention_class')]
    rows = conn.execute(sa.select(*columns).order_by(table.c.seq)).mappings().all()
    tree = CompactTree()
    for index, row in enumerate(rows):
        entry = SimpleNamespace(**{**row, 'seq': index})
        digest = leaf_hash(canonical_bytes(leaf_of(entry)))
        tree.append(digest)
        conn.execute(sa.update(table).where(table.c.seq == row['seq']).values(seq=index, leaf_hash=digest))
    size, nodes = tree.state()
    return size, b''.join(nodes)


def _create_triggers(dialect: str) -> None:
    # Nobody — the application, an administrator with SQL access — alters or removes a logged entry.
    if dialect == 'postgresql':
        op.execute(PG_FUNCTION)
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION stadtbote_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION stadtbote_append_only()")
        return
    for table in APPEND_ONLY:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == 'postgresql':
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if dialect == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS stadtbote_append_only()")
    op.drop_table('security_event')
    op.drop_table('rights_request')
    op.drop_table('audit_checkpoint')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('leaf_hash')
        batch_op.drop_column('retention_class')
        batch_op.drop_column('legal_basis')
