"""The console adapter: reads commands and answers line by line, prints replies.

It works interactively and with piped stdin, so it can be scripted and tested. It decides
nothing about grading or scheduling: every line becomes a call to the study services
(:mod:`bot.services`), and every reply is rendered by :mod:`bot.console.render`. A command
that needs several lines (adding a question) answers with a
:class:`~bot.console.dialog.Dialog`, which then takes the following lines until it is done
or the member types ``/cancel``.

The console is its own small server: its members study as members of
:data:`LOCAL_GUILD_ID`, so the questions they add with ``/question`` (the console's user owns
the data, so they moderate it) come up in their /quiz, /practice, /test and /review.
"""

from __future__ import annotations

import asyncio
import io
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.console.dialog import CANCEL_WORD, Dialog
from bot.console.render import render_reply, safe_text
from bot.core.content import DIFFICULTIES, is_blank
from bot.core.learners import Learner
from bot.core.replies import Reply, ReplyField
from bot.errors import BadInput, TutorError
from bot.log import get_logger
from bot.services.study import StudyServices

log = get_logger(__name__)

QUIT_WORDS = frozenset({"/quit", "/exit", "quit", "exit"})
COMMANDS = (
    "/review",
    "/quiz",
    "/practice",
    "/explain",
    "/test",
    "/stats",
    "/decks",
    "/help",
    "/quit",
)
#: A console command beyond the study ones: gets the member and the words after the name,
#: and answers with a reply or with a dialog that takes the next lines.
ConsoleCommand = Callable[[Learner, list[str]], Awaitable[Reply | Dialog]]

#: The console's own server. Real Discord server ids are snowflakes of at least 2**22, so
#: this can never be a Discord server's, even when the bot and the console share a database.
LOCAL_GUILD_ID = 1
LOCAL_GUILD_NAME = "offline console"

#: Undecodable input bytes, as the ``surrogateescape`` error handler passes them on.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def undecodable_offset(line: str, encoding: str = "utf-8") -> int | None:
    """The byte offset in ``line`` of the first byte its encoding could not decode, if any.

    Input is read with the ``surrogateescape`` handler (see :meth:`ConsoleApp.run`), so such
    a byte arrives as a lone surrogate instead of stopping the console with an error.
    """
    match = _ESCAPED_BYTE.search(line)
    if match is None:
        return None
    try:
        return len(line[: match.start()].encode(encoding, "surrogateescape"))
    except (LookupError, UnicodeError):
        return match.start()


def _pass_undecodable_bytes(source: TextIO) -> str:
    """Make ``source`` hand over bytes it cannot decode; returns its encoding."""
    if isinstance(source, io.TextIOWrapper):
        if source.errors == "strict":
            source.reconfigure(errors="surrogateescape")
        return source.encoding
    return "utf-8"


def console_learner(user: str) -> Learner:
    """The member at the terminal: the local profile ``user``, on the console's server."""
    return Learner(
        platform="local",
        external_id=user.casefold(),
        display_name=user,
        guild_id=LOCAL_GUILD_ID,
        guild_name=LOCAL_GUILD_NAME,
    )


class ConsoleApp:
    """One member's terminal session with the tutor."""

    def __init__(
        self,
        study: StudyServices,
        learner: Learner,
        *,
        out: TextIO | None = None,
        image_dir: Path | None = None,
        media_dir: Path | None = None,
        commands: Mapping[str, ConsoleCommand] | None = None,
        help_fields: Sequence[ReplyField] = (),
    ) -> None:
        self.study = study
        self.learner = learner
        self.out = out or sys.stdout
        self.image_dir = image_dir
        #: Where imported pictures are; a question names its picture's file there.
        self.media_dir = media_dir
        #: Extra commands (``/train`` and the community ones), by name with the slash.
        self.commands = dict(commands or {})
        #: Console-only sections added to /help (the tutor's help is shared with Discord).
        self.help_fields = tuple(help_fields)
        self.current: Reply | None = None
        #: The multi-line exchange in progress (adding a question), if any.
        self.dialog: Dialog | None = None
        #: How typed bytes are decoded (the terminal's encoding, set by :meth:`run`).
        self.input_encoding = "utf-8"

    # -- output ---------------------------------------------------------------------------

    def write(self, text: str) -> None:
        """Write ``text``, made safe for a terminal; every output of the console comes here."""
        self.out.write(safe_text(text))
        self.out.flush()

    def say(self, text: str) -> None:
        """Write a block of text followed by a blank line."""
        self.write(text.rstrip() + "\n\n")

    def show(self, reply: Reply) -> None:
        """Render a reply, remember its choices, and save any image it carries.

        Replies without choices (stats, help) leave the open question as it was, so a
        member can check /stats mid-question and still answer it.
        """
        if reply.choices:
            self.current = reply
        text = (
            render_reply(reply, media_dir=self.media_dir)
            if self.media_dir is not None
            else render_reply(reply)
        )
        if reply.image is not None:
            text += "\n" + self._save_image(reply)
        self.say(text)

    def _save_image(self, reply: Reply) -> str:
        if reply.image is None:
            return ""
        if self.image_dir is None:
            return f"(picture: {reply.image.description or reply.image.filename})"
        self.image_dir.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", reply.image.filename) or "image.png"
        # A timestamp keeps earlier pictures instead of overwriting them.
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        path = self.image_dir / f"{stamp}-{safe}"
        path.write_bytes(reply.image.data)
        return f"(picture saved to {path})"

    def error(self, message: str) -> None:
        """Show a one-line problem and what to do next."""
        self.say(f"! {message}")

    # -- input ----------------------------------------------------------------------------

    async def handle_line(self, raw: str) -> bool:
        """Handle one line of input; returns False when the member wants to quit."""
        offset = undecodable_offset(raw, self.input_encoding)
        if offset is not None:
            self.error(self._undecodable_message(offset))
            return True
        line = raw.strip()
        if self.dialog is not None:
            return await self._dialog_line(self.dialog, line)
        if is_blank(line):
            if self._waiting_for_text():
                self.error("Your answer is empty — type it (or hint, if there is one).")
            return True
        if line.casefold() in QUIT_WORDS:
            self.say("Bye! Your progress is saved.")
            return False
        try:
            if line.startswith("/"):
                await self._command(line)
            else:
                await self._choice(line)
        except TutorError as error:
            self.error(error.message)
        except Exception:
            self._unexpected(line)
        return True

    def _undecodable_message(self, offset: int | None) -> str:
        encoding = self.input_encoding.upper().replace("UTF8", "UTF-8")
        where = f" (byte offset {offset})" if offset is not None else ""
        return (
            f"That line isn't {encoding} text{where}, so it was ignored. Type it again "
            f"(set your terminal to {encoding} if this keeps happening)."
        )

    def _unexpected(self, line: str) -> None:
        incident = uuid.uuid4().hex[:8]
        log.exception("console error %s on input %r", incident, line[:80])
        self.error(f"Something went wrong (id {incident}). Your saved answers are safe.")

    async def _dialog_line(self, dialog: Dialog, line: str) -> bool:
        """A line typed while a dialog is open: /cancel, /quit, or the dialog's answer."""
        word = line.split(maxsplit=1)[0].casefold() if line else ""
        if line.casefold() == CANCEL_WORD:
            self.dialog = None
            self.say(f"Stopped {dialog.purpose} — nothing was saved.")
            return True
        # Only /quit and /exit: a bare "exit" may well be an option's text.
        if line.casefold() in QUIT_WORDS and line.startswith("/"):
            self.dialog = None
            self.say(f"Bye! Stopped {dialog.purpose}; nothing of it was saved, the rest is.")
            return False
        if word in COMMANDS or word in self.commands:
            # Most likely a forgotten dialog, not text that starts like a command.
            self.error(f"Finish {dialog.purpose} first, or type {CANCEL_WORD} to stop.")
            self.say(dialog.question())
            return True
        try:
            reply = await dialog.take(line)
        except TutorError as error:
            self.error(error.message)
        except Exception:
            self.dialog = None  # its state is unknown now; starting again is safer
            self._unexpected(line)
            return True
        else:
            if reply is not None:
                self.show(reply)
        if dialog.finished:
            self.dialog = None
        elif not dialog.collecting:
            self.say(dialog.question())
        return True

    def _start(self, result: Reply | Dialog) -> None:
        """Show a command's reply, or open its dialog and ask the first question."""
        if isinstance(result, Reply):
            self.show(result)
            return
        self.dialog = result
        opening = result.opening()
        self.say(f"{opening}\n{result.question()}" if opening else result.question())

    def _waiting_for_text(self) -> bool:
        return self.current is not None and any(c.needs_text for c in self.current.choices)

    async def _command(self, line: str) -> None:
        name, *args = line.split()
        name = name.casefold()
        learner = self.learner
        study = self.study
        if name == "/help":
            shared = study.decks.help()
            self.show(replace(shared, fields=shared.fields + self.help_fields))
        elif name == "/review":
            tag, words = _tag_option(args)
            if _wants_mistakes(words):
                self.show(await study.review.mistakes(learner, tag))
            else:
                self.show(await study.review.review(learner, tag))
        elif name in ("/quiz", "/practice"):
            tag, words = _tag_option(args)
            if tag is not None and name != "/quiz":
                raise BadInput("tag: works with /quiz and /review. Type /practice [deck].")
            deck, difficulty = _deck_and_difficulty(words)
            mode = name[1:]
            self.show(await study.practice.ask(learner, mode, deck, difficulty, tag=tag))
        elif name == "/explain":
            self.show(await study.practice.explain(learner, args[0] if args else None))
        elif name == "/test":
            self.show(await study.tests.start_test(learner, args[0] if args else None))
        elif name == "/stats":
            self.show(await study.stats.stats(learner))
        elif name == "/decks":
            self.show(await study.decks.deck_listing(learner))
        elif name == CANCEL_WORD:
            self.say("Nothing to cancel. Type /help for the commands.")
        elif name in self.commands:
            self._start(await self.commands[name](learner, args))
        else:
            known = [*COMMANDS[:-1], *sorted(self.commands), COMMANDS[-1]]
            self.error(f"Unknown command {name[:30]}. Try one of: {', '.join(known)}.")

    async def _choice(self, line: str) -> None:
        reply = self.current
        if reply is None or not reply.choices:
            self.error("Start with a command such as /review, /quiz or /test (or /help).")
            return
        choice = reply.choice_for(line)
        if choice is not None and not choice.needs_text:
            self.show(await self.study.actions.act(self.learner, choice.action))
            return
        text_choice = next((c for c in reply.choices if c.needs_text), None)
        if text_choice is not None:
            self.show(await self.study.actions.act(self.learner, text_choice.action, line))
            return
        self.error(_not_a_choice(reply, line))

    async def run(self, stdin: TextIO | None = None) -> int:
        """Read lines until /quit or end of input; returns the exit code."""
        source = stdin or sys.stdin
        self.input_encoding = _pass_undecodable_bytes(source)
        interactive = source.isatty()
        loop = asyncio.get_running_loop()
        self.say(
            f"Hi {self.learner.display_name}! This is the study tutor's offline console. "
            "Type /help for commands, /review to start, /quit to leave."
        )
        while True:
            if interactive:
                self.write("… " if self.dialog is not None and self.dialog.collecting else "> ")
            try:
                raw = await loop.run_in_executor(None, source.readline)
            except UnicodeDecodeError:
                # A stream that would not pass undecodable bytes on; that chunk is lost.
                self.error(self._undecodable_message(None))
                continue
            if raw == "":
                if interactive:
                    self.write("\n")
                if self.dialog is not None:
                    self.say(f"The input ended while {self.dialog.purpose} — nothing was saved.")
                return 0
            if not await self.handle_line(raw):
                return 0


#: How a console command names a tag: ``/quiz tag:bio::cells``, ``/review mistakes tag:x``.
TAG_PREFIX = "tag:"


def _tag_option(args: list[str]) -> tuple[str | None, list[str]]:
    """The ``tag:…`` word among ``args`` (None without one) and the other words."""
    tags = [arg[len(TAG_PREFIX) :] for arg in args if arg.casefold().startswith(TAG_PREFIX)]
    rest = [arg for arg in args if not arg.casefold().startswith(TAG_PREFIX)]
    if len(tags) > 1:
        raise BadInput("Pick one tag, like tag:bio::cells.")
    if tags and not tags[0]:
        raise BadInput("Type the tag right after tag:, like tag:bio::cells.")
    return (tags[0] if tags else None), rest


def _wants_mistakes(words: list[str]) -> bool:
    """``/review`` (or ``/review due``) → False, ``/review mistakes`` → True."""
    wanted = [word.casefold() for word in words]
    if wanted in ([], ["due"]):
        return False
    if wanted == ["mistakes"]:
        return True
    raise BadInput(
        "Type /review for your due cards or /review mistakes to retry what you got wrong "
        "(add tag:<tag> to keep to one tag)."
    )


def _deck_and_difficulty(args: list[str]) -> tuple[str | None, str | None]:
    """``/quiz [deck] [difficulty]`` in either order."""
    deck = difficulty = None
    for arg in args:
        if arg.casefold() in DIFFICULTIES and difficulty is None:
            difficulty = arg.casefold()
        elif deck is None:
            deck = arg
        else:
            difficulty = arg
    return deck, difficulty


def _not_a_choice(reply: Reply, line: str) -> str:
    letters = [c.key for c in reply.choices if len(c.key) == 1]
    words = [c.key for c in reply.choices if len(c.key) > 1]
    if len(line) == 1 and line.isalpha():
        if letters:
            return f"{line.upper()} isn't an option here. Pick one of {letters[0]}–{letters[-1]}."
        if "next" in words:
            return "You already answered this one. Type next to go on."
    options = ", ".join(letters + words)
    return f"I didn't understand '{line[:40]}'. Type {options} — or a command like /help."
