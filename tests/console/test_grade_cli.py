"""``python -m bot grade ITEM_ID "answer" [--json]`` and the content check's concept warning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.console.content_cli import concept_warnings
from bot.console.grade_cli import main
from bot.core.deck_files import load_deck_files
from bot.semantic.meaning import SentenceMeaning

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"


def test_json_names_each_concept_with_its_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "explain-loss-and-optimizer",
            "The optimizer measures the error. The loss tells how far off we are.",
            "--json",
        ],
        content_dir=CONTENT,
        model="wordllama",
    )
    assert code == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line
    verdict = json.loads(line)
    assert verdict["item"] == "explain-loss-and-optimizer"
    assert verdict["out_of"] == 3
    assert verdict["score"] == sum(c["hit"] for c in verdict["concepts"])
    loss = next(c for c in verdict["concepts"] if c["name"] == "the loss measures the error")
    assert loss["hit"] and loss["evidence"] == "The loss tells how far off we are"
    missed = [c for c in verdict["concepts"] if not c["hit"]]
    assert all(c["evidence"] is None for c in missed)
    assert verdict["misconceptions"] == ["the optimizer measures the error"]


def test_text_output_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["explain-why-weights-change", "The weights don't change and the loss goes up."],
        content_dir=CONTENT,
        model="off",
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("explain-why-weights-change: 0/3 concepts")
    assert "phrase rules only" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-item", "x"], "No item 'no-such-item'"),
        (["role-of-optimizer", "x"], "is a flashcard item; only explain items are graded"),
        (["explain-why-weights-change", "   "], "The answer is empty"),
        (["explain-why-weights-change", "x" * 2001], "too long"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args, content_dir=CONTENT, model="off") == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_the_real_command_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "grade", "explain-why-weights-change", "x", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["score"] == 0
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "grade", "nope", "x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 2
    assert missing.stdout == ""


def test_content_check_warns_about_concepts_that_mean_the_same(tmp_path: Path) -> None:
    deck = tmp_path / "close.yaml"
    deck.write_text(
        """deck: close
title: Close concepts
items:
  - id: explain-close
    kind: explain
    prompt: Why train?
    hint: Think.
    model_answer: Training adjusts the weights.
    concepts:
      - name: weights are adjusted
        examples: [Training adjusts the weights.]
      - name: the weights get adjusted
        examples: [Training adjusts the weights!]
      - name: predictions improve
        examples: [The model's predictions become more accurate.]
""",
        encoding="utf-8",
    )
    library = load_deck_files([deck])
    assert not library.problems
    warnings = concept_warnings(library, SentenceMeaning("wordllama"))
    assert len(warnings) == 1
    assert "'weights are adjusted' and 'the weights get adjusted'" in warnings[0]
    assert concept_warnings(library, SentenceMeaning("off")) == []
    seed = load_deck_files(sorted(CONTENT.glob("*.yaml")))
    assert concept_warnings(seed, SentenceMeaning("wordllama")) == []
