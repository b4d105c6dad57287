"""Covering indexes for the due queue: counting a member's due cards and finding unseen
items without reading each item's JSON payload.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two covering indexes."""
    op.create_index("ix_items_id_active_guild", "items", ["id", "active", "guild_id"])
    op.create_index(
        "ix_review_states_user_due_item", "review_states", ["user_id", "due", "item_id"]
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_review_states_user_due_item", table_name="review_states")
    op.drop_index("ix_items_id_active_guild", table_name="items")
