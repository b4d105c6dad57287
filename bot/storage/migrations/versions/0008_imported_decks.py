"""Imported decks: item tags, the key an import recognises an item by, tagged study runs.

* ``items.tags``: the item's tags, case-folded, each between single spaces
  (``" biology::cells week-1 "``, or ``""``), so ``/review`` and ``/quiz`` can be limited to
  one tag with a ``LIKE`` on both SQLite and PostgreSQL;
* ``items.source_key``: where an imported question came from (``anki:<note guid>:<card>``,
  ``text:<digest of the question>``), so importing the same file again updates the
  question in place (members keep their progress) instead of adding it twice;
* ``ix_items_guild_source``: finding a server's items by that key;
* ``study_sessions.tag``: the tag a ``/review tag:…`` or ``/quiz tag:…`` run is limited to,
  so its "Next" button keeps the tag.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the three columns and the index."""
    with op.batch_alter_table("items") as batch:
        batch.add_column(
            sa.Column("tags", sa.String(length=1300), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("source_key", sa.String(length=200), nullable=True))
    op.create_index("ix_items_guild_source", "items", ["guild_id", "source_key"])
    with op.batch_alter_table("study_sessions") as batch:
        batch.add_column(sa.Column("tag", sa.String(length=60), nullable=True))


def downgrade() -> None:
    """Put the schema back as 0007 left it."""
    with op.batch_alter_table("study_sessions") as batch:
        batch.drop_column("tag")
    op.drop_index("ix_items_guild_source", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("source_key")
        batch.drop_column("tags")
