"""Index on reels.updated_at: the status board reads only the rows changed since its last read.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_reels_updated_at', 'reels', ['updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reels_updated_at', table_name='reels')
