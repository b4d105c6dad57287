"""Bringing decks in: the service behind ``/question import`` (Discord and console).

One entry point for every format a moderator has: Anki packages (``.apkg``/``.colpkg``),
Anki "Notes in plain text", Quizlet exports, Red-DiscordBot Trivia lists, and our own CSV
and YAML. The format is recognised from the file's content. An import is all-or-nothing:
any problem stores nothing and the reply lists every one of them. Importing the same file
again updates its questions in place (found by the Anki note's guid, or the question's
text), so members keep their progress. Pictures of Anki notes are copied into the media
folder under content-hash names; with ``history`` the importing member keeps the package's
review history as their own schedule.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.anki_notes import notes_to_questions, referenced_media
from bot.core.clock import Clock
from bot.core.content import payload_prompt
from bot.core.deck_imports import (
    MAX_PACKAGE_BYTES,
    MAX_PACKAGE_QUESTIONS,
    ImportSummary,
    imported_reply,
    is_zip,
    package_too_big,
    parse_text_upload,
    remarks_report,
    repeated_keys,
    source_key,
)
from bot.core.learners import Learner
from bot.core.permissions import SERVER_ONLY
from bot.core.question_drafts import check_deck_name, question_key, short
from bot.core.question_files import (
    MAX_IMPORT_BYTES,
    ImportedQuestion,
    ImportParse,
    decode_upload,
    import_refused_reply,
    problem_position,
    problem_report,
    too_big_message,
)
from bot.core.replies import Reply
from bot.core.review_history import card_from_history
from bot.core.scheduling import CardState, SpacedRepetition
from bot.core.text_decks import parse_quizlet
from bot.decks.anki_read import PackageLimits, read_anki_package
from bot.errors import BadInput, PermissionDenied
from bot.log import get_logger
from bot.services._guilds import bank_actor
from bot.storage import bank, crud, imports
from bot.storage.db import Database
from bot.storage.models import Item

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What ``/question import`` sends: the reply and, on problems or notes, a report."""

    reply: Reply
    report: str | None = None


@dataclass(slots=True)
class _Plan:
    """What storing a parsed file will do, worked out before anything is written."""

    adds: list[tuple[ImportedQuestion, imports.NewItem]]
    updates: list[tuple[ImportedQuestion, imports.KnownItem, imports.NewItem]]
    problems: list[str]


class DeckImportService:
    """Import a file into a server's question bank: every question of it, or none."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        srs: SpacedRepetition,
        media_dir: Path,
        limits: PackageLimits | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.srs = srs
        self.media_dir = media_dir
        self.limits = limits or PackageLimits()

    async def import_upload(
        self,
        member: Learner,
        filename: str,
        source: bytes | Path,
        *,
        deck: str | None = None,
        history: bool = False,
    ) -> ImportResult:
        """Import ``source`` (the uploaded bytes, or a file on disk) named ``filename``.

        ``deck`` puts every question into that deck. ``history`` keeps an Anki package's
        review history as ``member``'s own schedule. Raises :class:`BadInput` for a file
        that cannot be read at all; problems inside the file come back in the reply.
        """
        if member.guild_id is None:
            raise PermissionDenied(SERVER_ONLY)
        deck = check_deck_name(deck) if deck else None
        head, size = await asyncio.to_thread(_peek, source)
        if is_zip(head):
            if size > MAX_PACKAGE_BYTES:
                raise BadInput(package_too_big(size))
            with self._staging() as staging:
                parsed = await asyncio.to_thread(
                    self._read_package, filename, source, deck, staging
                )
                return await self._store(member, filename, parsed, history, staging)
        if size > MAX_IMPORT_BYTES:
            raise BadInput(too_big_message(size))
        data = source if isinstance(source, bytes) else await asyncio.to_thread(_read, source)
        # Up to 1 MB of text: parse off the event loop so other members aren't held up.
        parsed = await asyncio.to_thread(parse_text_upload, filename, data, deck=deck)
        if history:
            parsed.remarks.append("this file carries no review history, so cards start new")
        return await self._store(member, filename, parsed, False, None)

    async def import_text(
        self, member: Learner, text: str, *, deck: str, name: str = "pasted set"
    ) -> ImportResult:
        """Import pasted Quizlet-style lines (``term<TAB>definition``) into ``deck``.

        The same all-or-nothing import as a text upload, always read as a Quizlet set;
        ``name`` stands for the file name in the reply and the report. Raises
        :class:`BadInput` for text that is too long or not text at all.
        """
        if member.guild_id is None:
            raise PermissionDenied(SERVER_ONLY)
        deck = check_deck_name(deck)
        data = text.encode("utf-8", "surrogatepass")
        if len(data) > MAX_IMPORT_BYTES:
            raise BadInput(too_big_message(len(data)))
        parsed = await asyncio.to_thread(_parse_pasted, data, name, deck)
        return await self._store(member, name, parsed, False, None)

    # -- reading ---------------------------------------------------------------------------

    @contextmanager
    def _staging(self) -> Iterator[Path]:
        """A fresh folder inside the media folder for a package's pictures (removed after)."""
        try:
            self.media_dir.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.media_dir))
        except OSError as error:
            log.warning("media folder %s is not usable: %s", self.media_dir, error)
            raise BadInput(
                "I can't store pictures right now (the media folder is not writable). "
                "Ask the bot's host to check it."
            ) from None
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _read_package(
        self, filename: str, source: bytes | Path, deck: str | None, staging: Path
    ) -> ImportParse:
        """Read an Anki package and its pictures (runs in a worker thread)."""
        with (
            _as_file(source, staging) as path,
            read_anki_package(path, limits=self.limits, temp_dir=staging) as package,
        ):
            notes = package.collection.notes
            media = package.extract_media(sorted(referenced_media(notes)), staging)
            parsed = notes_to_questions(notes, media=media, deck=deck)
            parsed.remarks[:0] = package.collection.remarks
        if len(parsed.questions) > MAX_PACKAGE_QUESTIONS:
            parsed.problems.insert(
                0,
                f"the package has {len(parsed.questions)} cards; the limit is "
                f"{MAX_PACKAGE_QUESTIONS} per import. Export one deck at a time from Anki.",
            )
        log.info("read %s: %d notes, %d pictures", filename, len(notes), len(media))
        return parsed

    # -- storing ---------------------------------------------------------------------------

    async def _store(
        self,
        member: Learner,
        filename: str,
        parsed: ImportParse,
        history: bool,
        staging: Path | None,
    ) -> ImportResult:
        if not parsed.questions and not parsed.problems:
            parsed.problems.append("the file has no questions")
        parsed.problems.extend(repeated_keys(parsed.questions))
        now = self.clock.now()
        async with self.db.session() as session:
            guild_id, user_id = await bank_actor(session, member)
            plan = await self._plan(session, guild_id, parsed)
            if plan.problems:
                await session.rollback()
                problems = sorted(plan.problems, key=problem_position)
                return ImportResult(
                    import_refused_reply(filename, problems),
                    report=problem_report(filename, problems),
                )
            summary = ImportSummary(filename=filename, remarks=list(parsed.remarks))
            ids = await self._write(session, guild_id, user_id, plan, summary, now)
            if history:
                await self._keep_history(session, user_id, plan, ids, summary, now)
            summary.decks = sorted({q.deck for q in parsed.questions})
            await crud.record_audit(
                session,
                guild_id=guild_id,
                actor_user_id=user_id,
                action="question.import",
                item_id=summary.added[0] if summary.added else None,
                details={
                    "file": filename[:100],
                    "added": len(summary.added),
                    "updated": summary.updated,
                    "unchanged": summary.unchanged,
                    "decks": summary.decks[:20],
                    "history": summary.history_cards,
                },
                now=now,
            )
            if staging is not None:
                summary.images = await asyncio.to_thread(_promote, staging, self.media_dir)
            await session.commit()
        log.info(
            "guild %s: imported %s (%d new, %d updated, %d unchanged)",
            guild_id,
            filename,
            len(summary.added),
            summary.updated,
            summary.unchanged,
        )
        return ImportResult(imported_reply(summary), report=remarks_report(summary))

    async def _plan(self, session: AsyncSession, guild_id: int, parsed: ImportParse) -> _Plan:
        """Which questions are new and which update a question the server already has.

        A question is found by its key; one keyed by its text also matches a question of
        the same deck and text that was added by hand (which it then updates and keys).
        """
        plan = _Plan(adds=[], updates=[], problems=list(parsed.problems))
        keyed = [(question, source_key(question)) for question in parsed.questions]
        by_key = await imports.items_by_source(
            session, guild_id=guild_id, keys={key for _q, key in keyed}
        )
        by_text: dict[tuple[str, str], Item] = {}
        text_decks = {q.deck for q, key in keyed if key.startswith("text:") and key not in by_key}
        for row in await bank.active_items_in_decks(session, guild_id=guild_id, decks=text_decks):
            text = payload_prompt(row.payload)
            if text:
                by_text.setdefault((row.deck, question_key(text)), row)
        for question, key in keyed:
            found = by_key.get(key)
            if found is None and key.startswith("text:"):
                same = by_text.get((question.deck, question_key(question.item.prompt)))
                if same is not None and same.guild_id is None:
                    plan.problems.append(
                        f"{question.where}: '{short(question.item.prompt, 50)}' is already "
                        f"a bundled question in {question.deck} (#{same.id}); leave it out"
                    )
                    continue
                if same is not None and same.source_key in (None, key):
                    found = imports.known(same)  # added by hand or by an older import
            new = imports.NewItem(question.deck, question.item, key)
            if found is None:
                plan.adds.append((question, new))
            else:
                plan.updates.append((question, found, new))
        return plan

    async def _write(
        self,
        session: AsyncSession,
        guild_id: int,
        user_id: int,
        plan: _Plan,
        summary: ImportSummary,
        now: datetime,
    ) -> dict[str, int]:
        """Add and update the rows; returns the item id of every question by its key."""
        ids: dict[str, int] = {}
        added = await imports.add_items(
            session,
            guild_id=guild_id,
            items=[new for _question, new in plan.adds],
            created_by=user_id,
            now=now,
        )
        for (_question, new), item_id in zip(plan.adds, added, strict=True):
            ids[str(new.source_key)] = item_id
        summary.added.extend(added)
        changed = await imports.update_items(
            session,
            guild_id=guild_id,
            items=[(found, new) for _question, found, new in plan.updates],
            now=now,
        )
        for _question, found, new in plan.updates:
            ids[str(new.source_key)] = found.id
        summary.updated += sum(changed)
        summary.unchanged += len(changed) - sum(changed)
        return ids

    async def _keep_history(
        self,
        session: AsyncSession,
        user_id: int,
        plan: _Plan,
        ids: dict[str, int],
        summary: ImportSummary,
        now: datetime,
    ) -> None:
        """The importing member's cards, replayed from the package's review history."""
        cards: list[tuple[int, CardState]] = []
        for question, new in [*plan.adds, *((q, n) for q, _found, n in plan.updates)]:
            if not question.reviews:
                continue
            state = card_from_history(question.reviews, srs=self.srs, now=now)
            if state is not None:
                cards.append((ids[str(new.source_key)], state))
        if not cards:
            summary.remarks.append("the package has no review history, so cards start new")
            return
        summary.history_cards = await imports.save_cards(
            session, user_id=user_id, cards=cards, now=now
        )
        summary.history_due = sum(1 for _id, state in cards if state.due <= now)


def _parse_pasted(data: bytes, name: str, deck: str) -> ImportParse:
    """Pasted text read as a Quizlet set (checked as a text upload is: UTF-8, no NULs)."""
    return parse_quizlet(decode_upload(data, name), deck=deck)


def _peek(source: bytes | Path) -> tuple[bytes, int]:
    """The first bytes and the size of an upload."""
    if isinstance(source, bytes):
        return source[:4], len(source)
    try:
        with source.open("rb") as handle:
            return handle.read(4), os.fstat(handle.fileno()).st_size
    except OSError as error:
        log.info("could not read upload %s: %s", source, error)
        raise BadInput("I couldn't read that file. Please send it again.") from None


def _read(path: Path) -> bytes:
    """A text upload's bytes (its size was checked; one byte more shows a file that grew)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_IMPORT_BYTES + 1)
    except OSError as error:
        log.info("could not read upload %s: %s", path, error)
        raise BadInput("I couldn't read that file. Please send it again.") from None
    if len(data) > MAX_IMPORT_BYTES:
        raise BadInput(too_big_message(len(data)))
    return data


@contextmanager
def _as_file(source: bytes | Path, folder: Path) -> Iterator[Path]:
    """``source`` as a file on disk (uploaded bytes are written into ``folder`` first)."""
    if isinstance(source, Path):
        yield source
        return
    path = folder / ".upload"
    path.write_bytes(source)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _promote(staging: Path, media_dir: Path) -> int:
    """Move a package's pictures from ``staging`` into the media folder; returns how many.

    Names are content hashes, so a picture that is already there is the same picture.
    """
    count = 0
    for path in staging.iterdir():
        if path.name.startswith("."):
            continue
        os.replace(path, media_dir / path.name)
        count += 1
    return count
