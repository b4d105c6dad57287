"""Community features: server settings for the daily quiz and moderators, member
preferences, the audit log and daily quizzes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add settings columns and the audit and daily-quiz tables."""
    with op.batch_alter_table("guilds") as batch:
        batch.add_column(
            sa.Column("daily_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("daily_channel_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("daily_time", sa.String(length=5), nullable=True))
        batch.add_column(
            sa.Column("daily_questions", sa.Integer(), nullable=False, server_default="1")
        )
        batch.add_column(sa.Column("daily_deck", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("daily_window_minutes", sa.Integer(), nullable=False, server_default="60")
        )
        batch.add_column(sa.Column("moderator_role_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("extra_time", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("remind_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("remind_time", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("remind_timezone", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("last_reminded_on", sa.String(length=10), nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["guild_id"], ["guilds.id"]),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_guild_created", "audit_log", ["guild_id", "created_at"])
    op.create_table(
        "daily_quizzes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("local_date", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("item_ids", sa.JSON(), nullable=False),
        sa.Column("prompt_ids", sa.JSON(), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["guild_id"], ["guilds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("guild_id", "local_date", name="uq_daily_quiz_guild_date"),
    )
    op.create_index("ix_attempts_guild_created", "attempts", ["guild_id", "created_at"])


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    op.drop_index("ix_attempts_guild_created", table_name="attempts")
    op.drop_table("daily_quizzes")
    op.drop_index("ix_audit_guild_created", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("users") as batch:
        for column in (
            "last_reminded_on",
            "remind_timezone",
            "remind_time",
            "remind_enabled",
            "extra_time",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("guilds") as batch:
        for column in (
            "moderator_role_id",
            "daily_window_minutes",
            "daily_deck",
            "daily_questions",
            "daily_time",
            "daily_channel_id",
            "daily_enabled",
        ):
            batch.drop_column(column)
