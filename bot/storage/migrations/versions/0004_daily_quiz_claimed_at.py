"""When a daily quiz was claimed: a late post claims long after it was due, so an
interrupted post is recognised by its claim time, not its scheduled time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``daily_quizzes.claimed_at`` (empty for quizzes claimed before this change)."""
    op.add_column(
        "daily_quizzes", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("daily_quizzes") as batch:
        batch.drop_column("claimed_at")
