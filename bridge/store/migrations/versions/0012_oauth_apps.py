"""OAuth apps: registered clients, authorization codes, client-credentials tokens; API tokens name their app
and scopes

Every secret is stored as its SHA-256 only: client secrets, codes, tokens. Tokens made by an admin before
this revision keep no app and no scopes (they carry all of an editor's rights, as before).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('oauth_app',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('website', sa.String(length=2000), nullable=True),
    sa.Column('redirect_uris', sa.JSON(), nullable=False),
    sa.Column('scopes', sa.String(length=1000), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_app')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oauth_app_client_id')),
    )
    with op.batch_alter_table('api_token') as batch_op:
        batch_op.add_column(sa.Column('app_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('scopes', sa.String(length=1000), nullable=True))
        batch_op.create_index(batch_op.f('ix_api_token_app_id'), ['app_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_api_token_app_id_oauth_app'), 'oauth_app', ['app_id'], ['id'],
                                    ondelete='CASCADE')
    op.create_table('oauth_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_sha256', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('redirect_uri', sa.String(length=2000), nullable=False),
    sa.Column('scopes', sa.String(length=1000), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=8), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('expires_at', UTC, nullable=False),
    sa.Column('used_at', UTC, nullable=True),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['app_id'], ['oauth_app.id'], name=op.f('fk_oauth_code_app_id_oauth_app'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_oauth_code_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_id'], ['actor.id'], name=op.f('fk_oauth_code_actor_id_actor'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], name=op.f('fk_oauth_code_token_id_api_token'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_code')),
    sa.UniqueConstraint('code_sha256', name=op.f('uq_oauth_code_code_sha256')),
    )
    op.create_index(op.f('ix_oauth_code_app_id'), 'oauth_code', ['app_id'], unique=False)
    op.create_table('oauth_app_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.Integer(), nullable=False),
    sa.Column('scopes', sa.String(length=1000), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('revoked_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['app_id'], ['oauth_app.id'], name=op.f('fk_oauth_app_token_app_id_oauth_app'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_app_token')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_oauth_app_token_token_sha256')),
    )
    op.create_index(op.f('ix_oauth_app_token_app_id'), 'oauth_app_token', ['app_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_oauth_app_token_app_id'), table_name='oauth_app_token')
    op.drop_table('oauth_app_token')
    op.drop_index(op.f('ix_oauth_code_app_id'), table_name='oauth_code')
    op.drop_table('oauth_code')
    with op.batch_alter_table('api_token') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_token_app_id_oauth_app'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_api_token_app_id'))
        batch_op.drop_column('scopes')
        batch_op.drop_column('app_id')
    op.drop_table('oauth_app')
