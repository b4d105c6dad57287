"""``python -m bot content check|export``."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.app import run_content
from bot.console.content_cli import main as content_main
from bot.settings import Settings, get_settings

DECKS = Path(__file__).resolve().parent / "data" / "decks"
GOOD = DECKS / "good"
BROKEN = DECKS / "broken"


def main(argv: list[str]) -> int:
    """``python -m bot content …`` as the composition root runs it (settings from the env)."""
    return run_content(Settings(_env_file=None), argv)


@pytest.fixture
def content_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point CONTENT_DIR at a fresh folder for the duration of a test."""
    folder = tmp_path / "content"
    folder.mkdir()
    monkeypatch.setenv("CONTENT_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def test_check_good_decks_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(GOOD)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "All good: 2 decks, 5 items." in captured.err


def test_check_bad_decks_prints_one_line_per_problem(capsys: pytest.CaptureFixture[str]) -> None:
    files = [BROKEN / "answer-out-of-range.yaml", BROKEN / "duplicate-ids.yaml", GOOD]
    assert main(["check", *map(str, files)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"{files[0]}:12: item 'loss-role': answer 'E' is not one of the options A–D",
        f"{files[1]}:8: item 'same-id': duplicate id, already used on line 4",
    ]
    assert "Found 2 problems in 2 of 4 deck files." in captured.err


def test_check_whole_broken_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(BROKEN)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(list(BROKEN.glob("*.yaml")))
    for line in lines:
        file, number, message = line.split(":", 2)
        assert Path(file).parent == BROKEN
        assert int(number) >= 1
        assert message.startswith(" ")


def test_check_without_paths_uses_the_configured_content_dir(
    content_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(BROKEN / "empty-text.yaml", content_dir / "deck.yaml")
    assert main(["check"]) == 1
    assert capsys.readouterr().out == (
        f"{content_dir / 'deck.yaml'}:7: item 'card': back must not be empty\n"
    )
    (content_dir / "deck.yaml").unlink()
    shutil.copy(GOOD / "second-deck.yml", content_dir / "second-deck.yml")
    assert main(["check"]) == 0


def test_check_reports_missing_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["check", str(tmp_path)]) == 2
    assert "No deck files" in capsys.readouterr().err


def test_check_reports_a_missing_content_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The settings refuse a missing CONTENT_DIR at start-up; the command checks it too.
    assert content_main(["check"], content_dir=tmp_path / "gone") == 2
    assert "Set CONTENT_DIR or restore the content/ folder." in capsys.readouterr().err


def test_usage_errors_exit_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["--help"]) == 0
    capsys.readouterr()


def test_export_prints_json_with_the_final_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["export", str(PROJECT_ROOT / "content")]) == 0
    items = json.loads(capsys.readouterr().out)
    required = {"id", "deck", "kind", "prompt", "options", "answer", "difficulty"}
    assert all(required <= item.keys() for item in items)
    by_id = {item["id"]: item for item in items}
    assert len(by_id) == len(items) == 17

    def answer(item_id: str) -> str:
        value = by_id[f"tensorflow-training-basics/{item_id}"]["answer"]
        assert isinstance(value, str)
        return value

    assert answer("why-update-weights").startswith("To reduce the difference")
    assert answer("apply-gradients-snippet").startswith("optimizer.apply_gradients(")
    assert answer("loss-after-first-step").startswith("A positive number")
    assert answer("missing-apply-gradients").startswith("The optimizer is never applied")
    assert answer("house-prices-weight-updates").startswith(
        "Updating the weights lets the model learn patterns"
    )
    assert answer("what-training-adjusts") == "Model weights"
    assert answer("what-measures-bad-predictions") == "Loss function"
    assert answer("optimizer-job") == "Change weights to reduce loss"
    assert answer("weights-not-updated") == "It does not improve"
    assert answer("why-minimize-loss") == "To improve prediction accuracy"
    letters = [
        by_id[f"tensorflow-training-basics/{item_id}"]["answer_letter"]
        for item_id in (
            "why-update-weights",
            "apply-gradients-snippet",
            "loss-after-first-step",
            "missing-apply-gradients",
            "house-prices-weight-updates",
        )
    ]
    assert letters == ["A", "D", "C", "A", "B"]


def test_export_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "items.json"
    assert main(["export", str(GOOD), "--output", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 5


def test_export_refuses_broken_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(BROKEN / "bad-kind.yaml")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "bad-kind.yaml:5:" in captured.err


@pytest.mark.slow
def test_module_entry_point_checks_the_shipped_content() -> None:
    env = {key: value for key, value in os.environ.items() if key != "CONTENT_DIR"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "All good" in result.stderr


# --------------------------------------------------------------------------- a big deck


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _big_deck(size: int) -> list[dict[str, Any]]:
    """``size`` deep copies of the shipped items, each with a new id."""
    shipped: list[dict[str, Any]] = []
    for path in sorted((PROJECT_ROOT / "content").glob("*.yaml")):
        shipped.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["items"])
    items = [copy.deepcopy(shipped[index % len(shipped)]) for index in range(size)]
    for index, item in enumerate(items):
        item["id"] = f"item-{index:04d}"
    return items


def _line(text: str, item_id: str, field: str = "id") -> int:
    """The line of ``field`` in the item ``item_id`` of a dumped deck."""
    lines = text.splitlines()
    start = lines.index(f"- id: {item_id}")
    if field == "id":
        return start + 1
    for number in range(start + 1, len(lines)):
        if lines[number].startswith(f"  {field}:"):
            return number + 1
    raise AssertionError(f"no {field} in {item_id}")


def _block(text: str, item_id: str) -> list[str]:
    """The lines of the item ``item_id`` of a dumped deck."""
    lines = text.splitlines()
    start = lines.index(f"- id: {item_id}")
    end = next(n for n in range(start + 1, len(lines)) if lines[n].startswith("- id: "))
    return lines[start:end]


def test_check_reports_every_problem_of_a_generated_deck(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = _big_deck(1200)
    assert items[900]["kind"] in ("mcq", "practice")
    items[700]["id"] = "item-0003"  # a duplicate of an early id
    items[900]["answer"] = "F"  # past the options
    items[1000]["anwser"] = "A"  # a typo'd field
    items[1100]["id"] = "item-1100"
    first_text = next(key for key in ("front", "question", "prompt") if key in items[1100])
    items[1100][first_text] = "\u200b"  # only a zero-width space
    deck = {"deck": "generated", "title": "Generated", "items": items}
    text = yaml.dump(deck, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=100)
    path = tmp_path / "generated.yaml"
    path.write_text(text, encoding="utf-8")

    assert main(["check", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    invisible = "has only spaces or invisible characters (such as zero-width spaces)"
    duplicate_line = _line(text, "item-0699") + len(_block(text, "item-0699"))  # item 700
    assert captured.out.splitlines() == [
        f"{path}:{duplicate_line}: item 'item-0003': duplicate id, already used on line "
        f"{_line(text, 'item-0003')}",
        f"{path}:{_line(text, 'item-0900', 'answer')}: item 'item-0900': answer 'F' is not "
        f"one of the options A–{'ABCDEF'[len(items[900]['options']) - 1]}",
        f"{path}:{_line(text, 'item-1000', 'anwser')}: item 'item-1000': unknown field "
        "'anwser' (did you mean 'answer'?)",
        f"{path}:{_line(text, 'item-1100', first_text)}: item 'item-1100': {first_text} "
        f"{invisible}; type some visible text",
    ]
    assert "Found 4 problems in 1 of 1 deck file." in captured.err


def test_check_passes_a_generated_deck_and_counts_its_items(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deck = {"deck": "generated", "title": "Generated", "items": _big_deck(1200)}
    text = yaml.dump(deck, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=100)
    (tmp_path / "generated.YAML").write_text(text, encoding="utf-8")
    assert main(["check", str(tmp_path)]) == 0
    assert "All good: 1 deck, 1200 items." in capsys.readouterr().err


def test_check_prints_unusable_files_and_no_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(GOOD / "mini-deck.yaml", tmp_path / "a.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "gone.yaml")
    (tmp_path / "c.yaml").write_text(
        "deck: c-deck\ntitle: C\nitems:\n  - id: cc\n    kind: flashcard\n    front: F\n"
        '    back: B\n    "\\e[2J\\u202e": x\n',
        encoding="utf-8",
    )
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"{tmp_path / 'b.yaml'}:1: broken link: it points to {tmp_path / 'gone.yaml'}, which "
        "doesn't exist; fix the link or remove it",
        f"{tmp_path / 'c.yaml'}:8: item 'cc': unknown field '^[[2J\ufffd'",
    ]
