"""Reel templates and batches: reels.is_template, reels.batch_id/batch_row, batches, batch_rows.

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'batches',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('owner', sa.String(200), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('template_id', sa.Integer(), nullable=True),
        sa.Column('file_name', sa.String(255), nullable=False),
        sa.Column('rows_sha256', sa.String(64), nullable=False),
        sa.Column('columns', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('launched_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['template_id'], ['reels.id'], name='fk_batches_template_id_reels',
                                ondelete='SET NULL'),
        sa.UniqueConstraint('owner', 'template_id', 'rows_sha256', name='uq_batches_owner_template_rows'),
    )
    op.create_index('ix_batches_owner', 'batches', ['owner'])
    op.create_table(
        'batch_rows',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('batch_id', sa.Integer(), sa.ForeignKey('batches.id', name='fk_batch_rows_batch_id_batches',
                                                          ondelete='CASCADE'), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.Column('excluded', sa.Boolean(), nullable=False),
        sa.Column('reel_id', sa.Integer(), sa.ForeignKey('reels.id', name='fk_batch_rows_reel_id_reels',
                                                         ondelete='SET NULL'), nullable=True),
        sa.UniqueConstraint('batch_id', 'number', name='uq_batch_rows_batch_number'),
    )
    op.create_index('ix_batch_rows_batch_id', 'batch_rows', ['batch_id'])
    op.create_index('ix_batch_rows_reel_id', 'batch_rows', ['reel_id'])
    with op.batch_alter_table('reels') as batch:
        batch.add_column(sa.Column('is_template', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('batch_row', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_reels_batch_id_batches', 'batches', ['batch_id'], ['id'], ondelete='SET NULL')
        batch.create_index('ix_reels_batch_id', ['batch_id'])
        batch.create_index('uq_reels_batch_row', ['batch_id', 'batch_row'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('reels') as batch:
        batch.drop_index('uq_reels_batch_row')
        batch.drop_index('ix_reels_batch_id')
        batch.drop_constraint('fk_reels_batch_id_batches', type_='foreignkey')
        batch.drop_column('batch_row')
        batch.drop_column('batch_id')
        batch.drop_column('is_template')
    op.drop_table('batch_rows')
    op.drop_table('batches')
