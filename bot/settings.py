"""Settings, read once from the environment (and ``.env``) with pydantic-settings.

Secrets have no default and are never logged (``SecretStr``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import PROJECT_ROOT

DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "tutor.db"


class Settings(BaseSettings):
    """Every knob the bot reads from the environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    discord_token: SecretStr | None = None
    database_url: str = Field(default=f"sqlite+aiosqlite:///{DEFAULT_DB_PATH}")
    #: PostgreSQL only: connections of the answer lane's own asyncpg pool, i.e. answers in
    #: a transaction at once (``bot.storage.pg_lane.DEFAULT_POOL_SIZE``). Each process holds
    #: these on top of SQLAlchemy's pool, all within the server's ``max_connections``.
    database_answer_connections: int = Field(default=8, ge=1, le=64)
    content_dir: Path = PROJECT_ROOT / "content"
    dev_guild_id: int | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    #: Time zone used for "today" (daily new-item limit, streaks) when a server sets none.
    study_timezone: str = "UTC"
    new_items_per_day: int = Field(default=20, ge=0, le=1000)
    #: FSRS fuzzing spreads reviews out; tests turn it off for exact intervals.
    fsrs_fuzzing: bool = True
    desired_retention: float = Field(default=0.9, gt=0.5, lt=1.0)
    log_level: str = "WARNING"
    #: Answer an interaction directly if the engine replies within this many seconds, else
    #: acknowledge first (Discord's deadline is 3 s) and follow up.
    discord_ack_budget_s: float = Field(default=1.5, gt=0, le=2.8)
    #: Register slash commands with Discord on start-up.
    sync_commands: bool = True
    #: Sharding: total shards across all processes, and the shards this process runs
    #: (default: all of them). Processes share one PostgreSQL database.
    shard_count: int | None = Field(default=None, ge=1, le=1024)
    shard_ids: list[int] | None = None
    #: The /train lab: warm TensorFlow worker processes (0 turns /train off).
    training_workers: int = Field(default=1, ge=0, le=8)
    training_job_timeout_s: float = Field(default=30.0, gt=0, le=600)
    training_max_queue: int = Field(default=8, ge=0, le=100)
    training_cooldown_s: float = Field(default=10.0, ge=0, le=3600)
    training_memory_limit_mb: int = Field(default=2048, ge=256)

    @property
    def database_dir(self) -> Path:
        """Where runtime files go: the SQLite file's folder, else ``data/``."""
        from bot.storage.db import sqlite_path

        path = sqlite_path(self.database_url)
        return path.parent if path is not None else PROJECT_ROOT / "data"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build the settings object once per process."""
    return Settings()
