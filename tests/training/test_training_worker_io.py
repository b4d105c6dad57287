"""The worker's environment and stderr: allow-listed variables, logs forwarded (no TF)."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest

from bot.training.process import (
    FORCED,
    LOG_MARKER,
    MAX_LINE_BYTES,
    STDERR_LOGGER,
    RecordLineHandler,
    forward_stderr,
    log_worker_line,
    worker_environment,
)

SECRETS = {
    "DISCORD_TOKEN": "tok-123",
    "DATABASE_URL": "postgresql://tutor:hunter2@db/tutor",
    "GITHUB_TOKEN": "ghp-456",
    "OPENAI_API_KEY": "sk-789",
    "AWS_SECRET_ACCESS_KEY": "aws-abc",
    "DB_PASSWORD": "hunter2",
}


def test_worker_environment_is_an_allow_list() -> None:
    parent = {
        **SECRETS,
        "TUTOR_TRAINING_FAULTS": "1",  # only a test pool turns fault injection on
        "PATH": "/usr/bin",
        "HOME": "/home/tutor",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp/x",
        "VIRTUAL_ENV": "/venv",
        "PYTHONPATH": "/extra",
        "LOG_LEVEL": "DEBUG",
        "TF_CPP_MIN_LOG_LEVEL": "0",  # the member's terminal would get TF's chatter
        "SOMETHING_ELSE": "x",
    }
    env = worker_environment(parent, import_root="/app")
    assert not set(SECRETS) & set(env)
    assert not any(value in env.values() for value in SECRETS.values())
    assert "SOMETHING_ELSE" not in env and "TUTOR_TRAINING_FAULTS" not in env
    for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "LOG_LEVEL"):
        assert env[name] == parent[name]
    assert env["PYTHONPATH"] == "/app:/extra"
    assert {name: env[name] for name in FORCED} == dict(FORCED)
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "2"
    faults = worker_environment(parent, import_root="/app", extra={"TUTOR_TRAINING_FAULTS": "1"})
    assert faults["TUTOR_TRAINING_FAULTS"] == "1"
    assert worker_environment({}, import_root="/app")["PYTHONPATH"] == "/app"


def _worker_record_line(level: int, name: str, message: str, *, error: bool = False) -> str:
    """What a worker writes to stderr for one log record."""
    stream = io.StringIO()
    handler = RecordLineHandler(stream)
    exc_info = None
    if error:
        try:
            raise ValueError("boom")
        except ValueError:
            import sys

            exc_info = sys.exc_info()
    record = logging.LogRecord(name, level, __file__, 1, message, None, exc_info)
    handler.emit(record)
    return stream.getvalue()


def test_worker_records_are_one_line_and_keep_their_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    line = _worker_record_line(logging.ERROR, "bot.training.worker", "job 3 failed", error=True)
    assert line.startswith(LOG_MARKER) and line.count("\n") == 1
    caplog.set_level(logging.DEBUG)
    log_worker_line(line, "training worker 1")
    (record,) = caplog.records
    assert (record.name, record.levelno) == ("bot.training.worker", logging.ERROR)
    assert record.getMessage().startswith("[training worker 1] job 3 failed")
    assert "ValueError: boom" in record.getMessage()


def test_tensorflow_output_goes_to_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    lines = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796185743.484651 6292 cpu_feature_guard.cc:227] This TensorFlow binary"
        " is optimized to use available CPU instructions.",
        "oneDNN custom operations are on. You may see slightly different numerical results.",
        "E0000 00:00:1796185743.5 6292 cuda_dnn.cc:8310] Unable to register cuDNN factory",
        _worker_record_line(logging.WARNING, "tensorflow", "5 out of the last 5 calls retraced"),
        _worker_record_line(logging.ERROR, "absl", "absl says no"),
        LOG_MARKER + "{not json",
        "   ",
    ]
    for line in lines:
        log_worker_line(line, "training worker 2")
    levels = [(r.name, r.levelname) for r in caplog.records]
    assert levels == [
        (STDERR_LOGGER, "DEBUG"),
        (STDERR_LOGGER, "DEBUG"),
        (STDERR_LOGGER, "DEBUG"),
        (STDERR_LOGGER, "INFO"),
        (f"{STDERR_LOGGER}.tensorflow", "DEBUG"),
        (f"{STDERR_LOGGER}.absl", "INFO"),
        (STDERR_LOGGER, "DEBUG"),
    ]
    assert all(r.levelno < logging.WARNING for r in caplog.records)


async def test_forward_stderr_logs_every_line_until_the_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=STDERR_LOGGER)
    reader = asyncio.StreamReader()
    reader.feed_data(b"first line\nsecond ")
    reader.feed_data(b"line\n" + b"x" * (MAX_LINE_BYTES + 10) + b"\nno newline at the end")
    reader.feed_eof()
    await forward_stderr(reader, "training worker 3")
    messages = [r.getMessage() for r in caplog.records if r.name == STDERR_LOGGER]
    assert messages[:2] == ["[training worker 3] first line", "[training worker 3] second line"]
    assert len(messages[2]) == len("[training worker 3] ") + MAX_LINE_BYTES
    assert messages[3:] == ["[training worker 3] no newline at the end"]
