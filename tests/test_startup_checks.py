"""Every setting is checked at start-up by every entry point: a bad one is one line naming
the setting, the value and a valid example, exit code 2, and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot import PROJECT_ROOT
from bot.settings import (
    LOG_LEVELS,
    Settings,
    describe_settings_error,
    get_settings,
    valid_timezone,
)

COMMANDS = {
    "console": ["console", "--user", "ada"],
    "run": ["run"],
    "health": ["health"],
    "content": ["content", "check"],
    "train": ["train", "--steps", "1"],
}


def _run_bot(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "DATABASE_", "STUDY_", "LOG_", "TRAINING_", "SHARD_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env of the checkout
        env={
            **clean,
            "PYTHONPATH": str(PROJECT_ROOT),
            "DATABASE_URL": f"sqlite:///{tmp_path}/data/tutor.db",
            **env,
        },
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_bad_time_zone_stops_every_entry_point_in_one_line(tmp_path: Path, command: str) -> None:
    done = _run_bot(tmp_path, COMMANDS[command], STUDY_TIMEZONE="Mars/Olympus")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("Bad setting — STUDY_TIMEZONE: 'Mars/Olympus' — not a time zone")
    assert "e.g. STUDY_TIMEZONE=Europe/Berlin" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # nothing written


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LOG_LEVEL", "bogus", "not a log level"),
        ("NEW_ITEMS_PER_DAY", "5000", "less than or equal to 1000"),
        ("DESIRED_RETENTION", "0.3", "greater than 0.5"),
        ("TRAINING_IDLE_S", "-1", "greater than or equal to 0"),
        ("DATABASE_URL", "mysql://u:secret@h/db", "'mysql' databases are not supported"),
        ("DISCORD_API_BASE", "discord.com", "must start with http:// or https://"),
        ("CONTENT_DIR", "/no/such/folder", "is not a folder"),
        ("SHARD_IDS", "[5]", "outside 0..0"),
    ],
)
def test_a_bad_setting_is_one_line_with_exit_2(
    tmp_path: Path, name: str, value: str, says: str
) -> None:
    env = {name: value}
    if name == "SHARD_IDS":
        env["SHARD_COUNT"] = "1"
    done = _run_bot(tmp_path, ["health"], **env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("Bad setting — ")
    assert name in done.stderr and says in done.stderr
    assert "secret" not in done.stderr  # a URL is never echoed: it may hold a password
    assert not (tmp_path / "data").exists()


def test_pasted_database_urls_work_and_their_folder_is_created(tmp_path: Path) -> None:
    done = _run_bot(
        tmp_path, ["health"], DATABASE_URL="sqlite:///~/deep/er/tutor.db", HOME=str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok:")
    assert (tmp_path / "deep" / "er" / "tutor.db").is_file()


def test_an_unreachable_postgresql_stops_the_console_in_one_line(tmp_path: Path) -> None:
    done = _run_bot(
        tmp_path, COMMANDS["console"], DATABASE_URL="postgres://tutor:pw@127.0.0.1:9/tutor"
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Nothing answers at 127.0.0.1:9")
    assert done.stderr.count("\n") == 1, done.stderr  # the driver's words go to INFO logs


def test_arguments_that_are_not_utf8_are_refused(tmp_path: Path) -> None:
    bad = os.fsdecode(b"caf\xe9")
    done = _run_bot(tmp_path, ["console", "--user", bad])
    assert done.returncode == 2
    assert "is not UTF-8 text" in done.stderr and "Traceback" not in done.stderr


def test_a_dotenv_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"STUDY_TIMEZONE=\xff\xfe\n")
    done = _run_bot(tmp_path, ["health"])
    assert done.returncode == 2
    assert (
        done.stderr
        == "Bad setting — the .env file is not UTF-8 text. Save it as UTF-8 and try again.\n"
    )


def test_get_settings_turns_problems_into_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import SettingsProblem

    monkeypatch.setenv("STUDY_TIMEZONE", "Nowhere/Special")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsProblem, match="STUDY_TIMEZONE: 'Nowhere/Special'"):
            get_settings()
    finally:
        get_settings.cache_clear()


# -- any value ---------------------------------------------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
ZONE_LIKE = st.sampled_from(
    ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/New_York", "Etc/GMT+5", "Mars/Olympus"]
)


@given(st.one_of(ANY_TEXT, ZONE_LIKE, ZONE_LIKE.map(str.lower), ZONE_LIKE.map(lambda z: f"../{z}")))
def test_any_time_zone_is_accepted_only_when_real(value: str) -> None:
    with mock.patch.dict(os.environ, {"STUDY_TIMEZONE": value}):
        try:
            loaded = Settings(_env_file=None)
        except ValidationError as error:
            line = describe_settings_error(error)
            assert line.startswith("Bad setting — STUDY_TIMEZONE")
            assert "\n" not in line
            assert not valid_timezone(value.strip())
            return
    assert valid_timezone(loaded.study_timezone)


@given(st.one_of(ANY_TEXT, st.sampled_from([*LOG_LEVELS, "warn", "info", " debug ", "TRACE"])))
def test_any_log_level_is_a_real_level_or_one_line(value: str) -> None:
    with mock.patch.dict(os.environ, {"LOG_LEVEL": value}):
        try:
            loaded = Settings(_env_file=None)
        except ValidationError as error:
            line = describe_settings_error(error)
            assert line.startswith("Bad setting — LOG_LEVEL") and "\n" not in line
            return
    assert loaded.log_level in LOG_LEVELS


@given(st.one_of(ANY_TEXT, st.sampled_from(["sqlite:///x.db", "postgres://u:p@h/d", "mysql://"])))
def test_any_database_url_is_usable_or_one_line_without_the_value(value: str) -> None:
    with mock.patch.dict(os.environ, {"DATABASE_URL": value}):
        try:
            loaded = Settings(_env_file=None)
        except ValidationError as error:
            line = describe_settings_error(error)
            assert line.startswith("Bad setting — DATABASE_URL: — ") and "\n" not in line
            return
    assert loaded.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://"))
