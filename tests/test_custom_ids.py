"""Every prefix the bot routes a button or form ``custom_id`` on is used once.

Buttons carry ``t:<token>`` and the bot dispatches on the token's first segment: a cog's
prefix registered with ``register_button`` (``lb``, ``dq``, …) or else a study action of
:mod:`bot.core.actions` (``rv``, ``an``, …). Forms carry ``tm:<token>`` or a prefix registered
with ``register_form`` (``qf``). Two features sharing a prefix would steal each other's clicks,
also on messages posted long ago, so the prefixes are collected here from the source itself:

* every module-level ``*PREFIX = "<text>"`` constant anywhere under ``bot/`` (read with
  :mod:`ast`, so it does not matter which module a feature lives in);
* the literal first argument of any ``register_button(...)`` / ``register_form(...)`` call;
* the head of a sample token of every :data:`bot.core.actions.Action` type.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import get_args

from bot.core import actions

BOT_DIR = Path(__file__).resolve().parent.parent / "bot"
REGISTER_CALLS = {"register_button", "register_form"}

#: One sample of each action type (a new Action type must be added here).
ACTION_SAMPLES: list[actions.Action] = [
    actions.Reveal(1),
    actions.Rate(1, 3),
    actions.Answer(1, 0),
    actions.Hint(1),
    actions.SubmitExplanation(1),
    actions.Next("review"),
]
#: One sample of each action that presents a given item (the tutor's chat buttons).
ITEM_ACTION_SAMPLES: list[actions.ItemAction] = [actions.QuizItem(7), actions.WorkedProblem(7)]

#: Prefixes already on posted messages: renaming one breaks the buttons of old messages.
PUBLISHED = {
    *("t", "tm"),  # the custom_id wrappers of buttons and of the explanation form
    *("rv", "rt", "an", "hi", "ex", "nx"),  # study actions
    *("qz", "wp"),  # the tutor's "Quiz me on this" and "Show a worked problem"
    "dr",  # saving a desired retention (/settings retention, /me retention)
    *("lb", "fm", "dq", "dc", "ql", "qr", "qf"),  # the cogs' own buttons and forms
}


def _modules() -> Iterable[tuple[str, ast.Module]]:
    for path in sorted(BOT_DIR.rglob("*.py")):
        where = path.relative_to(BOT_DIR.parent).as_posix()
        yield where, ast.parse(path.read_text(encoding="utf-8"), filename=where)


def _constant_prefixes() -> list[tuple[str, str]]:
    """``(where, text)`` of every module-level ``*PREFIX = "<text>"`` under ``bot/``."""
    found = []
    for where, tree in _modules():
        for node in tree.body:
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            for target in targets:
                if (
                    isinstance(target, ast.Name)
                    and target.id.endswith("PREFIX")
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    found.append((f"{where}:{node.lineno} {target.id}", value.value))
    return found


def _register_arguments() -> list[tuple[str, ast.expr]]:
    """``(where, first argument)`` of every ``register_button`` / ``register_form`` call."""
    calls = []
    for where, tree in _modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in REGISTER_CALLS
                and node.args
            ):
                calls.append((f"{where}:{node.lineno} {node.func.attr}", node.args[0]))
    return calls


def _action_heads() -> list[tuple[str, str]]:
    return [
        (f"bot.core.actions.{type(sample).__name__}", sample.token().split(":", 1)[0])
        for sample in ACTION_SAMPLES
    ]


def _all_prefixes() -> list[tuple[str, str]]:
    """``(where, prefix)`` of every routing prefix; ``"t:"`` counts as ``"t"``."""
    literals = [
        (where, arg.value)
        for where, arg in _register_arguments()
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    ]
    return [
        (where, text.removesuffix(":"))
        for where, text in [*_constant_prefixes(), *literals, *_action_heads()]
    ]


def _duplicates(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    by_prefix: dict[str, list[str]] = defaultdict(list)
    for where, prefix in pairs:
        by_prefix[prefix].append(where)
    return {prefix: wheres for prefix, wheres in by_prefix.items() if len(wheres) > 1}


def test_action_samples_cover_every_action_type() -> None:
    assert {type(sample) for sample in ACTION_SAMPLES} == set(get_args(actions.Action))
    for sample in ACTION_SAMPLES:
        assert actions.parse_action(sample.token()) == sample
    assert {type(sample) for sample in ITEM_ACTION_SAMPLES} == set(get_args(actions.ItemAction))
    for item_sample in ITEM_ACTION_SAMPLES:
        assert actions.parse_action(item_sample.token()) == item_sample


def test_registered_prefixes_are_literals_or_prefix_constants() -> None:
    # Otherwise a prefix could be registered without this test seeing it.
    calls = _register_arguments()
    assert calls, "no register_button/register_form call found under bot/"
    for where, arg in calls:
        if isinstance(arg, ast.Constant):
            assert isinstance(arg.value, str), where
            continue
        name = arg.attr if isinstance(arg, ast.Attribute) else getattr(arg, "id", "")
        assert name.endswith("PREFIX"), f"{where}: register a *PREFIX constant, not {name!r}"


def test_every_prefix_is_unique() -> None:
    prefixes = _all_prefixes()
    assert {prefix for _, prefix in prefixes} >= PUBLISHED
    assert _duplicates(prefixes) == {}


def test_token_prefixes_have_the_routed_shape() -> None:
    # register_button/register_form and the button template accept two lowercase letters.
    for where, text in [*_constant_prefixes(), *_action_heads()]:
        if text.endswith(":"):  # the custom_id wrappers: "t:", "tm:"
            continue
        assert len(text) == 2 and text.isascii() and text.isalpha() and text.islower(), where


def test_a_duplicate_would_be_reported() -> None:
    pairs = [("bot/a.py LB", "lb"), ("bot/b.py OTHER", "lb"), ("bot/c.py DQ", "dq")]
    assert _duplicates(pairs) == {"lb": ["bot/a.py LB", "bot/b.py OTHER"]}
