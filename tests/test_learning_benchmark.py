"""`benchmarks/learning.py --quick` runs and reports the issue's figures (issue 13)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POLICY_NAMES = ("default", "leitner", "random", "exam_plan")
FIGURES = {"memorized_day30", "memorized_day60", "minutes", "memorized_per_minute"}


@pytest.mark.slow
def test_quick_learning_benchmark_meets_the_targets_that_apply() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "learning.py"), "--quick"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) > 1  # human summary first
    result = json.loads(lines[-1])
    policies = result["policies"]
    assert set(policies) == {"default", "personal", "leitner", "random", "exam_plan"}
    assert policies["personal"] is None
    assert result["logloss_personal"] is None
    assert "no licence" in result["blocked"]
    assert result["exam_plan_compared_with"] == "default"
    for name in POLICY_NAMES:
        assert set(policies[name]) >= FIGURES
    per_minute = {name: policies[name]["memorized_per_minute"] for name in POLICY_NAMES}
    assert per_minute["default"] > per_minute["leitner"] > per_minute["random"]
    exam = policies["exam_plan"]["exam_day_recall"]
    assert exam > policies["default"]["exam_day_recall"]
    assert 0 < result["logloss_default"] < 0.69
    assert all(result["targets"][key] for key in result["targets"] if key != "personal_vs_default")
