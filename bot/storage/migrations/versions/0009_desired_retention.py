"""Desired retention per server and per member (``/settings retention``, ``/me retention``).

* ``guilds.desired_retention``: the FSRS desired retention of answers given in the server;
* ``users.desired_retention``: a member's own choice, which applies in every server.

Both are nullable floats; NULL means "not chosen" (the server's, else the bot's
``DESIRED_RETENTION``), so existing rows keep today's behaviour.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two nullable columns."""
    with op.batch_alter_table("guilds") as batch:
        batch.add_column(sa.Column("desired_retention", sa.Float(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("desired_retention", sa.Float(), nullable=True))


def downgrade() -> None:
    """Put the schema back as 0008 left it (the chosen values are lost)."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("desired_retention")
    with op.batch_alter_table("guilds") as batch:
        batch.drop_column("desired_retention")
