"""Settings, read once from the environment (and ``.env``) with pydantic-settings.

Every value is checked when the process starts (:func:`get_settings`), so a bad one is
one line naming the setting, the value and a valid example, before anything is written.
Secrets have no default and are never logged or echoed (``SecretStr``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import PROJECT_ROOT
from bot.core.daily import parse_timezone
from bot.core.sharding import validate_shards
from bot.errors import BadInput
from bot.storage.urls import normalise_database_url

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: A valid value for each setting whose default is not a good example.
EXAMPLES = {
    "discord_token": "<your bot token from the Discord developer portal>",
    "database_url": "sqlite:///data/tutor.db",
    "dev_guild_id": "123456789012345678",
    "discord_api_base": "https://discord.com/api/v10",
    "discord_gateway_url": "wss://gateway.discord.gg",
    "study_timezone": "Europe/Berlin",
    "log_level": "INFO",
    "shard_count": "2",
    "shard_ids": "[0,1]",
    "content_dir": "content",
    "media_dir": "data/media",
    "grading_model": "wordllama",
}
#: Settings whose value is never repeated back (it may hold a password).
SECRET = {"discord_token", "database_url"}


def valid_timezone(name: str) -> bool:
    """True when ``name`` is an IANA time zone this machine knows (``Europe/Berlin``)."""
    try:
        parse_timezone(name)
    except BadInput:
        return False
    return True


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
    #: Where imported pictures are kept; None: ``media/`` next to the SQLite file (or
    #: ``data/media`` with PostgreSQL). Every process of one bot must see the same folder.
    media_dir: Path | None = None
    dev_guild_id: int | None = Field(default=None, ge=1)
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    #: Time zone used for "today" (daily new-item limit, streaks) when a server sets none.
    study_timezone: str = "UTC"
    new_items_per_day: int = Field(default=20, ge=0, le=1000)
    #: FSRS fuzzing spreads reviews out; tests turn it off for exact intervals.
    fsrs_fuzzing: bool = True
    desired_retention: float = Field(default=0.9, gt=0.5, lt=1.0)
    #: The sentence model that grades explanations by meaning and finds the tutor's answers
    #: (``wordllama`` or ``minilm``; see docs/grading.md). ``off``: phrase rules and
    #: keywords only.
    grading_model: Literal["wordllama", "minilm", "off"] = "wordllama"
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
    training_memory_limit_mb: int = Field(default=2048, ge=256, le=262144)
    #: Stop the idle TensorFlow worker after this many seconds without a /train (0: never);
    #: the next /train starts it again.
    training_idle_s: float = Field(default=600.0, ge=0, le=86400)

    @field_validator("database_url", mode="after")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("study_timezone", mode="after")
    @classmethod
    def _timezone(cls, value: str) -> str:
        # The same rule as a server's /settings timezone (any letter case, canonical name).
        try:
            return parse_timezone(value)
        except BadInput:
            raise ValueError(
                "not a time zone name (IANA names like Europe/Berlin or UTC)"
            ) from None

    @field_validator("log_level", mode="after")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level == "WARN":
            level = "WARNING"
        if level not in LOG_LEVELS:
            raise ValueError(f"not a log level (one of {', '.join(LOG_LEVELS)})")
        return level

    @field_validator("discord_api_base", mode="after")
    @classmethod
    def _api_base(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("discord_gateway_url", mode="after")
    @classmethod
    def _gateway(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value

    @field_validator("content_dir", mode="after")
    @classmethod
    def _content_dir(cls, value: Path) -> Path:
        folder = value.expanduser()
        if not folder.is_dir():
            raise ValueError("is not a folder (point CONTENT_DIR at the folder of decks)")
        return folder

    @field_validator("media_dir", mode="after")
    @classmethod
    def _media_dir(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        folder = value.expanduser()
        if folder.exists() and not folder.is_dir():
            raise ValueError("is a file, not a folder (point MEDIA_DIR at a folder)")
        return folder

    @model_validator(mode="after")
    def _shards(self) -> Settings:
        validate_shards(self.shard_count, self.shard_ids)
        return self

    @property
    def database_dir(self) -> Path:
        """Where runtime files go: the SQLite file's folder, else ``data/``."""
        from bot.storage.db import sqlite_path

        path = sqlite_path(self.database_url)
        return path.parent if path is not None else PROJECT_ROOT / "data"

    @property
    def media_path(self) -> Path:
        """Where imported pictures are kept: ``MEDIA_DIR``, else ``media/`` next to the
        database (``data/media`` with PostgreSQL)."""
        return self.media_dir or self.database_dir / "media"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build the settings object once per process.

    Raises :class:`SettingsProblem` (one line) when a setting or the ``.env`` file is bad.
    """
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsProblem(describe_settings_error(error)) from None
    except UnicodeDecodeError:
        raise SettingsProblem(
            "Bad setting — the .env file is not UTF-8 text. Save it as UTF-8 and try again."
        ) from None
    except (ValueError, OSError) as error:  # pydantic-settings' own parse errors
        line = f"Bad setting — {_first_line(error)}. Fix the environment or .env."
        raise SettingsProblem(line) from None


class SettingsProblem(Exception):
    """A setting that cannot be used; ``str()`` is the one line to show."""


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0].rstrip(".") if text else error.__class__.__name__


def _shown(name: str, value: Any) -> str:
    if name in SECRET:
        return ""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f" {text!r}" if isinstance(value, str) else f" {text}"


def _example(name: str) -> str:
    if name in EXAMPLES:
        return EXAMPLES[name]
    field = Settings.model_fields.get(name)
    default = field.default if field is not None else None
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default) if default is not None else "…"


def describe_settings_error(error: Exception) -> str:
    """One line naming each bad setting, its value (never a secret) and a valid example."""
    if not isinstance(error, ValidationError):
        return f"Bad setting — {_first_line(error)}. Fix the environment or .env."
    parts = []
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        if not problem["loc"]:  # a rule across settings; its message names them
            parts.append(message.rstrip("."))
            continue
        name = str(problem["loc"][0])
        env = name.upper()
        value = _shown(name, problem.get("input")) if problem["type"] != "missing" else ""
        parts.append(f"{env}:{value} — {message} (e.g. {env}={_example(name)})")
    return "Bad setting — " + "; ".join(parts) + ". Fix the environment or .env."
