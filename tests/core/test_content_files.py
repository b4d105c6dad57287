"""The content folder loader: every file it cannot use is a problem, and text must show."""

from __future__ import annotations

import gc
import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import deck_files as loader
from bot.core.content import has_words, is_blank, parse_item
from bot.core.deck_files import deck_files, load_deck_file, load_deck_text, load_library
from bot.core.grading import normalize_tokens
from bot.errors import BadInput, ContentError

DECKS = Path(__file__).resolve().parent.parent / "data" / "decks"
GOOD = DECKS / "good"
MINI = GOOD / "mini-deck.yaml"
SECOND = GOOD / "second-deck.yml"

#: Text that shows nothing: zero-width characters, the BOM, fillers, controls (and spaces).
BLANK = [
    "\u200b",
    " \u200c\u200d ",
    "\u2060",
    "\ufeff",
    "\u00a0\u200b\u3000",
    "\u3164",
    "\u2800",
    "\u202e",
    "\x1b",
]


# --------------------------------------------------------------------------- the folder


def test_upper_case_extensions_are_loaded(tmp_path: Path) -> None:
    shutil.copy(MINI, tmp_path / "MINI.YAML")
    shutil.copy(SECOND, tmp_path / "second.Yml")
    library = load_library(tmp_path)
    assert sorted(deck.deck for deck in library.decks) == ["mini-deck", "second-deck"]
    assert library.problems == []


def test_hidden_and_other_files_are_not_decks(tmp_path: Path) -> None:
    shutil.copy(MINI, tmp_path / "deck.yaml")
    shutil.copy(MINI, tmp_path / ".deck.yaml.swp.yaml")
    (tmp_path / "notes.txt").write_text("not a deck", encoding="utf-8")
    assert [path.name for path in deck_files(tmp_path)] == ["deck.yaml"]


def test_a_broken_link_is_a_problem(tmp_path: Path) -> None:
    shutil.copy(MINI, tmp_path / "a-good.yaml")
    link = tmp_path / "b-gone.yaml"
    link.symlink_to(tmp_path / "moved-away.yaml")
    library = load_library(tmp_path)
    assert [deck.deck for deck in library.decks] == ["mini-deck"]
    assert [str(problem) for problem in library.problems] == [
        f"{link}:1: broken link: it points to {tmp_path / 'moved-away.yaml'}, which doesn't "
        "exist; fix the link or remove it"
    ]


def test_a_working_link_is_loaded(tmp_path: Path) -> None:
    (tmp_path / "deck.yaml").symlink_to(MINI)
    assert [deck.deck for deck in load_library(tmp_path).decks] == ["mini-deck"]


def test_an_unreadable_file_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(MINI, tmp_path / "a-good.yaml")
    locked = tmp_path / "b-locked.yaml"
    shutil.copy(SECOND, locked)
    original = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return original(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    library = load_library(tmp_path)
    assert [deck.deck for deck in library.decks] == ["mini-deck"]
    assert [str(problem) for problem in library.problems] == [
        f"{locked}:1: cannot read the file: permission denied; make it readable (chmod a+r)"
    ]


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root (or Windows) reads any file"
)
def test_a_file_without_read_permission_is_a_problem(tmp_path: Path) -> None:
    locked = tmp_path / "locked.yaml"
    shutil.copy(MINI, locked)
    locked.chmod(0)
    try:
        library = load_library(tmp_path)
    finally:
        locked.chmod(0o644)
    assert library.decks == []
    assert [problem.message for problem in library.problems] == [
        "cannot read the file: permission denied; make it readable (chmod a+r)"
    ]


def test_a_folder_named_like_a_deck_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "old.yaml").mkdir()
    library = load_library(tmp_path)
    assert [(problem.line, problem.message) for problem in library.problems] == [
        (1, "this is a folder, not a deck file; decks must be files directly in the folder")
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_named_like_a_deck_is_a_problem_and_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would wait for a writer forever
    (problem,) = load_library(tmp_path).problems
    assert problem.message.startswith("this is not a regular file")


def test_a_folder_that_cannot_be_listed_is_a_content_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "iterdir", refuse)
    with pytest.raises(ContentError, match=r"Cannot read the content folder .* Check its"):
        load_library(tmp_path)


def test_a_deck_that_is_not_utf8_names_the_line_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "deck.yaml"
    path.write_bytes(b"\xef\xbb\xbfdeck: a-deck\ntitle: Caf\xe9\n")
    _, problems = load_deck_file(path)
    assert [str(problem) for problem in problems] == [
        f"{path}:2: the file isn't UTF-8 text (line 2, byte offset 26); save it as UTF-8"
    ]


# --------------------------------------------------------------------------- blank text


@pytest.mark.parametrize("text", BLANK)
def test_blank_text_is_refused_naming_the_field(text: str) -> None:
    assert is_blank(text)
    with pytest.raises(BadInput) as caught:
        parse_item({"id": "card", "kind": "flashcard", "front": f"  {text} ", "back": "Back."})
    assert caught.value.message == (
        "item 'card': front has only spaces or invisible characters (such as zero-width "
        "spaces); type some visible text"
    )


def test_text_of_only_spaces_is_empty() -> None:
    with pytest.raises(BadInput, match=r"^item 'card': front must not be empty$"):
        parse_item({"id": "card", "kind": "flashcard", "front": "\u00a0 \u3000", "back": "B."})


@pytest.mark.parametrize("text", ["a", "a\u200b", "\u200bx\u200b", "é", "日本", "1", "?"])
def test_visible_text_is_kept(text: str) -> None:
    assert not is_blank(text)
    item = parse_item({"id": "card", "kind": "flashcard", "front": text, "back": "Back."})
    assert item.prompt == text


def test_blank_options_name_the_option_by_letter() -> None:
    with pytest.raises(BadInput, match=r"^item 'qq': option B has only spaces or invisible"):
        parse_item(
            {
                "id": "qq",
                "kind": "mcq",
                "question": "Pick one.",
                "options": ["a", "\u200b"],
                "answer": "A",
                "explanation": "Because.",
            }
        )


def test_blank_code_and_description_are_refused() -> None:
    with pytest.raises(BadInput, match=r"^item 'qq': code has only spaces or invisible"):
        parse_item(
            {
                "id": "qq",
                "kind": "mcq",
                "question": "Pick one.",
                "code": "\u200b\n\u200b",
                "options": ["a", "b"],
                "answer": "A",
                "explanation": "Because.",
            }
        )
    text = 'deck: d1\ntitle: T\ndescription: "\\u200b"\nitems:\n  - id: cc\n    kind: flashcard\n'
    text += "    front: F\n    back: B\n"
    _, problems = load_deck_text(text, "inline.yaml")
    assert [str(problem) for problem in problems] == [
        "inline.yaml:3: description has only spaces or invisible characters (such as "
        "zero-width spaces); type some visible text"
    ]


def test_blank_fields_in_a_deck_file_are_problems_at_their_line() -> None:
    text = """\
deck: blank-fields
title: "\\u200b\\u200d"
items:
  - id: card
    kind: flashcard
    front: "\\ufeff"
    back: Back.
  - id: explain
    kind: explain
    prompt: Explain.
    hint: Think.
    model_answer: Answer.
    concepts:
      - name: idea
        phrases:
          - a real phrase
          - "\\u2060"
"""
    _, problems = load_deck_text(text, "inline.yaml")
    tail = "has only spaces or invisible characters (such as zero-width spaces); type some "
    assert [str(problem) for problem in problems] == [
        f"inline.yaml:2: title {tail}visible text",
        f"inline.yaml:6: item 'card': front {tail}visible text",
        f"inline.yaml:17: item 'explain': concept 1 phrase 2 {tail}visible text",
    ]


# --------------------------------------------------------------------------- speed-ups


PHRASES = [
    "the ?!",
    "model's",
    "the’s",
    "ｔｈｅ",
    "don`t",
    "It’s",
    "'s",
    "",
    "reduce the loss",
    "ﬁne-tune",
    "İstanbul",
]


@pytest.mark.parametrize("phrase", PHRASES)
def test_has_words_agrees_with_the_grader(phrase: str) -> None:
    assert has_words(phrase) == bool(normalize_tokens(phrase))


@given(st.text(alphabet=st.sampled_from("theasndo '`’‘ｔｈＥ?!1_-\u00e9\u0301ﬁ"), max_size=12))
def test_has_words_agrees_with_the_grader_on_any_text(phrase: str) -> None:
    assert has_words(phrase) == bool(normalize_tokens(phrase))


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_leaves_the_garbage_collector_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        load_deck_file(MINI)
        load_deck_text("deck: [", "broken.yaml")
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()


def test_without_libyaml_the_pure_python_parser_reads_decks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loader, "_TEXT_LOADER", None)
    deck, problems = load_deck_file(MINI)
    assert problems == [] and deck is not None and deck.deck == "mini-deck"
    _, problems = load_deck_text("deck: a\n  title: b\n", "inline.yaml")
    assert problems[0].message.startswith("invalid YAML: mapping values are not allowed here")
