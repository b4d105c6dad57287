"""Indexes for picking a member's next card at scale (100,000 items, long histories).

* ``ix_items_guild_active_id``: the active items of one scope in deck order, so the next
  new item is found by walking them and probing the member's cards, and a scope's size is
  counted from the index alone;
* ``ix_items_pick``: a random question of a scope, kind, deck and level is counted and
  reached from the index alone (``/quiz`` on a big bank reads one item row);
* ``ix_review_states_user_first_seen``: today's new cards of a member without reading
  every card they have;
* ``ix_review_states_user_due`` goes: ``ix_review_states_user_due_item`` starts with the
  same columns, so it served no query and cost a write on every answer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the three indexes and drop the redundant one."""
    op.create_index("ix_items_guild_active_id", "items", ["guild_id", "active", "id"])
    op.create_index(
        "ix_items_pick", "items", ["guild_id", "active", "kind", "deck", "difficulty", "id"]
    )
    op.create_index(
        "ix_review_states_user_first_seen", "review_states", ["user_id", "first_seen_at"]
    )
    op.drop_index("ix_review_states_user_due", table_name="review_states")


def downgrade() -> None:
    """Put the schema back as 0006 left it."""
    op.create_index("ix_review_states_user_due", "review_states", ["user_id", "due"])
    op.drop_index("ix_review_states_user_first_seen", table_name="review_states")
    op.drop_index("ix_items_pick", table_name="items")
    op.drop_index("ix_items_guild_active_id", table_name="items")
