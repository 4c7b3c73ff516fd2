"""Queue priority per reel (interactive before batch) and speech-sample audio kept in the database.

``reels.priority``: ``interactive`` (launched from Compose, sent first) or ``batch`` (shares the
remaining HeyGen slots fairly by owner). ``speech_samples.audio`` / ``content_type``: the sample's
bytes, so every app replica can play a sample generated on another without paying for it again.

Revision ID: 0007
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reels') as batch:
        batch.add_column(sa.Column('priority', sa.String(length=12), nullable=False,
                                   server_default='interactive'))
    op.create_index('ix_reels_status_priority_queued_at', 'reels', ['status', 'priority', 'queued_at'])
    with op.batch_alter_table('speech_samples') as batch:
        batch.add_column(sa.Column('audio', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('content_type', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('speech_samples') as batch:
        batch.drop_column('content_type')
        batch.drop_column('audio')
    op.drop_index('ix_reels_status_priority_queued_at', table_name='reels')
    with op.batch_alter_table('reels') as batch:
        batch.drop_column('priority')
