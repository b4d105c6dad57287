"""Persistence: SQLModel tables, async data-access functions and Alembic migrations."""
