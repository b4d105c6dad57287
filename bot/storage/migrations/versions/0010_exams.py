"""Exams: a member's own exam date in a server (or in DMs) and a server-wide one.

* ``exams``: one row per exam. ``guild_id`` is the server (NULL: DMs); ``user_id`` is the
  member whose own exam it is (NULL: the server-wide exam a moderator set); ``deck`` limits
  the plan to one deck (NULL: everything visible there); ``exam_on`` is the local date;
  ``set_by`` is the member who set it.
* There is at most one personal exam per member per server and one server-wide exam per
  server: setting one replaces the old row in the same transaction (a unique constraint
  cannot say it, as NULLs never collide in SQLite or PostgreSQL).
* ``user_id`` and ``set_by`` carry no foreign key, like the other loose member references
  forget-me clears by hand.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table and its two indexes."""
    op.create_table(
        "exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("deck", sa.String(length=64), nullable=True),
        sa.Column("exam_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["guild_id"], ["guilds.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exams_guild_user", "exams", ["guild_id", "user_id"])
    op.create_index("ix_exams_user", "exams", ["user_id"])


def downgrade() -> None:
    """Drop the table (the exam dates are lost)."""
    op.drop_index("ix_exams_user", table_name="exams")
    op.drop_index("ix_exams_guild_user", table_name="exams")
    op.drop_table("exams")
