"""Workspaces, members, folders, the budget ledger and approval requests; existing data moves into "Default".

One workspace named "Default" (id 1, ``is_default``) is created; every existing reel and batch
belongs to it (the new ``workspace_id`` columns default to 1), so nothing moves and history stays
intact. ``reels.workspace_id``/``folder_id`` and ``batches.workspace_id`` are plain ADD COLUMNs
without foreign keys: on SQLite a table copy of ``reels`` would cascade-delete its events.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'workspaces',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('is_default', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('heygen_mode', sa.String(10), nullable=False),
        sa.Column('api_key_encrypted', sa.Text(), nullable=True),
        sa.Column('api_key_hint', sa.String(20), nullable=False),
        sa.Column('monthly_budget_usd', sa.Float(), nullable=True),
        sa.Column('approval_threshold_usd', sa.Float(), nullable=True),
        sa.Column('concurrency', sa.Integer(), nullable=True),
        sa.Column('ledger_version', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_workspaces')),
        sa.UniqueConstraint('name', name=op.f('uq_workspaces_name')),
    )
    op.create_table(
        'workspace_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('role', sa.String(20), nullable=False),
        sa.Column('monthly_cap_usd', sa.Float(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_workspace_members_workspace_id_workspaces'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_workspace_members')),
        sa.UniqueConstraint('workspace_id', 'user_id', name='uq_workspace_members_workspace_user'),
    )
    op.create_index(op.f('ix_workspace_members_workspace_id'), 'workspace_members', ['workspace_id'])
    op.create_index(op.f('ix_workspace_members_user_id'), 'workspace_members', ['user_id'])
    op.create_table(
        'folders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('heygen_folder_id', sa.String(64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_folders_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_folders')),
        sa.UniqueConstraint('workspace_id', 'name', name='uq_folders_workspace_name'),
    )
    op.create_index(op.f('ix_folders_workspace_id'), 'folders', ['workspace_id'])
    op.create_table(
        'spend',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('reel_id', sa.Integer(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('member', sa.String(200), nullable=False),
        sa.Column('month', sa.String(7), nullable=False),
        sa.Column('state', sa.String(10), nullable=False),
        sa.Column('estimate_usd', sa.Float(), nullable=False),
        sa.Column('amount_usd', sa.Float(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_spend_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reel_id'], ['reels.id'], name=op.f('fk_spend_reel_id_reels'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_spend')),
        sa.UniqueConstraint('reel_id', 'attempt', name='uq_spend_reel_attempt'),
    )
    op.create_index(op.f('ix_spend_reel_id'), 'spend', ['reel_id'])
    op.create_index('ix_spend_workspace_month', 'spend', ['workspace_id', 'month'])
    op.create_table(
        'approval_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('reel_id', sa.Integer(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('requested_by', sa.String(200), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('estimate_usd', sa.Float(), nullable=False),
        sa.Column('state', sa.String(10), nullable=False),
        sa.Column('decided_by', sa.String(200), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_approval_requests_workspace_id_workspaces'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reel_id'], ['reels.id'], name=op.f('fk_approval_requests_reel_id_reels'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requests')),
    )
    op.create_index(op.f('ix_approval_requests_workspace_id'), 'approval_requests', ['workspace_id'])
    op.create_index(op.f('ix_approval_requests_reel_id'), 'approval_requests', ['reel_id'])
    # The Default workspace (plain SQL, so `alembic upgrade head --sql` prints it too); its key stays HEYGEN_API_KEY.
    op.execute("INSERT INTO workspaces (id, name, is_default, heygen_mode, api_key_hint, ledger_version, created_at, "
               "updated_at) VALUES (1, 'Default', true, 'sandbox', '', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    op.add_column('reels', sa.Column('workspace_id', sa.Integer(), server_default='1', nullable=False))
    op.add_column('reels', sa.Column('folder_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_reels_workspace_id'), 'reels', ['workspace_id'])
    op.create_index(op.f('ix_reels_folder_id'), 'reels', ['folder_id'])
    op.add_column('batches', sa.Column('workspace_id', sa.Integer(), server_default='1', nullable=False))
    op.create_index(op.f('ix_batches_workspace_id'), 'batches', ['workspace_id'])
    if op.get_context().dialect.name == "postgresql":  # the explicit id 1 must not collide with the next one
        op.execute("SELECT setval(pg_get_serial_sequence('workspaces', 'id'), (SELECT MAX(id) FROM workspaces))")


def downgrade() -> None:
    op.drop_index(op.f('ix_batches_workspace_id'), table_name='batches')
    op.drop_column('batches', 'workspace_id')
    op.drop_index(op.f('ix_reels_folder_id'), table_name='reels')
    op.drop_index(op.f('ix_reels_workspace_id'), table_name='reels')
    op.drop_column('reels', 'folder_id')
    op.drop_column('reels', 'workspace_id')
    for table in ("approval_requests", "spend", "folders", "workspace_members", "workspaces"):
        op.drop_table(table)
