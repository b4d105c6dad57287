"""A server's time zone and new cards per day become real settings, empty when never set.

Both columns had defaults ("UTC", 20) nobody could change, so a stored value could not say
whether a server chose it. Now NULL means "the bot's default" (``STUDY_TIMEZONE``,
``NEW_ITEMS_PER_DAY``). Existing rows: ``new_items_per_day`` was never settable, so it is
cleared everywhere; ``timezone`` was chosen by servers that configured a daily quiz
(``daily_time`` set) and is kept there, cleared elsewhere.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Allow NULL in ``guilds.timezone`` and ``guilds.new_items_per_day``; clear defaults."""
    with op.batch_alter_table("guilds") as batch:
        batch.alter_column("timezone", existing_type=sa.String(), nullable=True)
        batch.alter_column("new_items_per_day", existing_type=sa.Integer(), nullable=True)
    op.execute("UPDATE guilds SET new_items_per_day = NULL")
    op.execute("UPDATE guilds SET timezone = NULL WHERE daily_time IS NULL")


def downgrade() -> None:
    """Fill the old defaults back in and make both columns required again."""
    op.execute("UPDATE guilds SET timezone = 'UTC' WHERE timezone IS NULL")
    op.execute("UPDATE guilds SET new_items_per_day = 20 WHERE new_items_per_day IS NULL")
    with op.batch_alter_table("guilds") as batch:
        batch.alter_column("timezone", existing_type=sa.String(), nullable=False)
        batch.alter_column("new_items_per_day", existing_type=sa.Integer(), nullable=False)
