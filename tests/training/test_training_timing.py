"""Admission numbers: job timings and the busy estimate (pure, no workers)."""

from __future__ import annotations

import pytest

from bot.errors import Busy
from bot.training.errors import TrainingBusy
from bot.training.timing import DEFAULT_JOB_S, DEFAULT_START_S, JobTimings


def test_timings_are_moving_averages() -> None:
    timings = JobTimings()
    assert (timings.expected_job_s, timings.expected_start_s) == (DEFAULT_JOB_S, DEFAULT_START_S)
    timings.note_job(0.5)
    assert timings.expected_job_s == 0.5
    timings.note_job(1.5)
    assert timings.expected_job_s == pytest.approx(0.7)
    timings.note_start(6.0)
    timings.note_start(-1.0)  # a clock hiccup never makes the estimate negative
    assert timings.expected_start_s == pytest.approx(4.8)


def test_retry_after_counts_the_accepted_work_per_worker() -> None:
    timings = JobTimings()
    timings.note_job(2.0)
    # Two running (0.5 s and 3 s in: 1.5 s and 0 s left), three waiting (6 s), two workers.
    assert timings.retry_after_s(running_for_s=[0.5, 3.0], waiting=3, workers=2) == 4
    # One worker does it all alone.
    assert timings.retry_after_s(running_for_s=[0.5, 3.0], waiting=3, workers=1) == 8
    # Never "try again in 0 s".
    assert timings.retry_after_s(running_for_s=[], waiting=0, workers=2) == 1


def test_retry_after_adds_the_rest_of_a_start_up() -> None:
    timings = JobTimings()
    timings.note_job(0.01)
    timings.note_start(9.0)
    assert timings.retry_after_s(running_for_s=[], waiting=3, workers=1, starting_for_s=2.0) == 8
    # Taking longer than usual to start: the estimate does not go below the queued work.
    assert timings.retry_after_s(running_for_s=[], waiting=3, workers=1, starting_for_s=60) == 1


def test_busy_message_is_short_and_says_when() -> None:
    busy = TrainingBusy(7)
    assert isinstance(busy, Busy)
    assert busy.retry_after_s == 7
    assert str(busy) == "The lab is busy — try again in 7 s."
