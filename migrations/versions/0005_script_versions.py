"""Script versions: every saved text of each scene's script, and what each attempt said.

Adds ``scenes.uid`` (a scene's identity across edits and moves; existing scenes get one),
the ``script_versions`` table (existing non-empty scripts become their scene's first version,
source ``import``) and ``reel_attempts.script_version_ids``.

Revision ID: 0005
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('scenes', sa.Column('uid', sa.String(length=32), nullable=True))
    op.add_column('reel_attempts', sa.Column('script_version_ids', sa.JSON(), nullable=True))
    op.create_table('script_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reel_id', sa.Integer(), nullable=False),
    sa.Column('scene_uid', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['reel_id'], ['reels.id'], name=op.f('fk_script_versions_reel_id_reels'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_script_versions'))
    )
    op.create_index('ix_script_versions_reel_scene', 'script_versions', ['reel_id', 'scene_uid', 'id'], unique=False)

    # Plain SQL, so the backfill also works in offline (--sql) mode.
    new_uid = ("replace(gen_random_uuid()::text, '-', '')" if op.get_context().dialect.name == 'postgresql'
               else 'lower(hex(randomblob(16)))')
    op.execute(f'UPDATE scenes SET uid = {new_uid} WHERE uid IS NULL')
    op.execute("INSERT INTO script_versions (reel_id, scene_uid, text, actor, actor_id, at, source, label) "
               "SELECT s.reel_id, s.uid, s.script, r.owner, r.owner_id, r.updated_at, 'import', "
               "'text before history began' "
               "FROM scenes s JOIN reels r ON r.id = s.reel_id WHERE trim(s.script) <> '' ORDER BY s.id")


def downgrade() -> None:
    op.drop_index('ix_script_versions_reel_scene', table_name='script_versions')
    op.drop_table('script_versions')
    with op.batch_alter_table('reel_attempts') as batch:
        batch.drop_column('script_version_ids')
    with op.batch_alter_table('scenes') as batch:
        batch.drop_column('uid')
