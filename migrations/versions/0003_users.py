"""Users, reel owners by id, event actors by id, and versions on reels and voice annotations.

Every distinct owner name of the existing reels becomes one ``imported`` user (never signed in,
role producer) and owns those reels, so history keeps its names; events whose actor name matches
get that user's id. An admin can later link an imported user to the person who signs in.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    )
    op.create_index('uq_users_email_lower', 'users', [sa.text('lower(email)')], unique=True)
    # Plain ADD COLUMNs (no table copies): on SQLite a copy of ``reels`` would drop the original table,
    # and its ON DELETE CASCADE children (events, scenes, attempts) with it.
    op.add_column('reels', sa.Column('owner_id', sa.Integer(), nullable=True))
    op.add_column('reels', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.create_index(op.f('ix_reels_owner_id'), 'reels', ['owner_id'], unique=False)
    op.add_column('reel_events', sa.Column('actor_id', sa.Integer(), nullable=True))
    op.add_column('voice_annotations', sa.Column('updated_by_id', sa.Integer(), nullable=True))
    op.add_column('voice_annotations', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    _import_owner_names()


def _import_owner_names() -> None:
    """One imported user per distinct non-empty owner name; reels and matching events point at it.

    Plain SQL, so ``alembic upgrade head --sql`` prints it as well.
    """
    op.execute("INSERT INTO users (display_name, role, origin, created_at) "
               "SELECT DISTINCT owner, 'producer', 'imported', CURRENT_TIMESTAMP FROM reels "
               "WHERE owner IS NOT NULL AND owner <> ''")
    match = "(SELECT u.id FROM users u WHERE u.origin = 'imported' AND u.display_name = {col})"
    op.execute(f"UPDATE reels SET owner_id = {match.format(col='reels.owner')} WHERE owner <> ''")
    op.execute(f"UPDATE reel_events SET actor_id = {match.format(col='reel_events.actor')} WHERE actor <> ''")


def downgrade() -> None:
    # SQLite 3.35+ drops these columns in place (none has a constraint once its index is gone).
    op.drop_column('voice_annotations', 'version')
    op.drop_column('voice_annotations', 'updated_by_id')
    op.drop_column('reel_events', 'actor_id')
    op.drop_index(op.f('ix_reels_owner_id'), table_name='reels')
    op.drop_column('reels', 'version')
    op.drop_column('reels', 'owner_id')
    op.drop_index('uq_users_email_lower', table_name='users')
    op.drop_table('users')
