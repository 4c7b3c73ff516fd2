"""Own media: the media_assets table (recordings, voice samples, photos and their HeyGen assets) and
scenes.audio_asset_ref (a scene that speaks an own recording).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0004'  # after the current head on main (archive)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('media_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('mime_type', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('local_path', sa.Text(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('asset_id', sa.String(length=64), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('upload_status', sa.String(length=16), nullable=False),
    sa.Column('upload_error', sa.Text(), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('heygen_id', sa.String(length=64), nullable=True),
    sa.Column('group_id', sa.String(length=64), nullable=True),
    sa.Column('training_status', sa.String(length=20), nullable=True),
    sa.Column('training_error', sa.Text(), nullable=True),
    sa.Column('consent_url', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_assets')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_media_assets_idempotency_key')),
    sa.UniqueConstraint('owner', 'purpose', 'sha256', name='uq_media_assets_owner_file')
    )
    op.create_index(op.f('ix_media_assets_owner'), 'media_assets', ['owner'], unique=False)
    op.create_index(op.f('ix_media_assets_asset_id'), 'media_assets', ['asset_id'], unique=False)
    with op.batch_alter_table('scenes') as batch:
        batch.add_column(sa.Column('audio_asset_ref', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_scenes_audio_asset_ref'), ['audio_asset_ref'], unique=False)
        batch.create_foreign_key(batch.f('fk_scenes_audio_asset_ref_media_assets'), 'media_assets',
                                 ['audio_asset_ref'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('scenes') as batch:
        batch.drop_constraint(batch.f('fk_scenes_audio_asset_ref_media_assets'), type_='foreignkey')
        batch.drop_index(batch.f('ix_scenes_audio_asset_ref'))
        batch.drop_column('audio_asset_ref')
    op.drop_index(op.f('ix_media_assets_asset_id'), table_name='media_assets')
    op.drop_index(op.f('ix_media_assets_owner'), table_name='media_assets')
    op.drop_table('media_assets')
