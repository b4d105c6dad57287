"""A server's own question bank: the service behind ``/question`` (Discord and console).

Moderators add, import, edit and remove multiple-choice and practice questions that only
their server sees, list and export them, and see how members answer them. The rules live
in core (:mod:`bot.core.question_drafts`, :mod:`bot.core.question_files`,
:mod:`bot.core.question_stats`, :mod:`bot.core.question_list`); this service stores the
results through :mod:`bot.storage.bank` and answers with neutral replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.content import AnyItem, ChoiceItem, parse_item
from bot.core.learners import Learner
from bot.core.permissions import SERVER_ONLY
from bot.core.question_drafts import (
    DRAFT_GONE,
    QuestionDraft,
    build_item,
    draft_fields,
    draft_from_fields,
    draft_from_item,
    question_key,
    short,
)
from bot.core.question_files import (
    MAX_EXPORT_FILES,
    ExportFile,
    export_yaml,
    import_refused_reply,
    parse_import,
    problem_position,
    problem_report,
)
from bot.core.question_list import PAGE_SIZE, list_token, page_count
from bot.core.question_stats import question_stats, stats_reply
from bot.core.replies import Choice, Reply, ReplyBuilder, Tone
from bot.errors import BadInput, ExpiredAction, NotFound, PermissionDenied
from bot.log import get_logger
from bot.storage import bank, crud
from bot.storage.db import Database
from bot.storage.models import Item

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What ``/question export`` sends: a summary and the deck files."""

    reply: Reply
    files: tuple[ExportFile, ...]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What ``/question import`` sends: a summary and, on problems, the full report."""

    reply: Reply
    report: str | None = None


def _server_id(member: Learner) -> int:
    if member.guild_id is None:
        raise PermissionDenied(SERVER_ONLY)
    return member.guild_id


class QuestionBankService:
    """A server's own questions: add, import, edit, remove, list, export and stats.

    Every method takes the acting moderator as a :class:`~bot.core.learners.Learner` (whose
    ``guild_id`` is the server). Permission checks happen in the adapter, which knows the
    member's roles; this class trusts that they passed.
    """

    def __init__(self, db: Database, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def _now(self) -> datetime:
        return self.clock.now()

    async def _actor(self, session: AsyncSession, member: Learner) -> tuple[int, int]:
        """(server id, acting member's users.id), creating both rows when new."""
        guild_id = _server_id(member)
        await crud.ensure_guild(session, guild_id=guild_id, name=member.guild_name)
        user = await crud.get_or_create_user(
            session,
            platform=member.platform,
            external_id=member.external_id,
            display_name=member.display_name,
        )
        return guild_id, bank.saved_id(user.id)

    @staticmethod
    def _existing_keys(rows: Iterable[Item]) -> dict[tuple[str, str], int]:
        keys: dict[tuple[str, str], int] = {}
        for row in rows:
            payload = row.payload or {}
            text = payload.get("question") or payload.get("front") or payload.get("prompt")
            if isinstance(text, str) and row.id is not None:
                keys.setdefault((row.deck, question_key(text)), row.id)
        return keys

    async def _own_row(self, session: AsyncSession, guild_id: int, item_id: int) -> Item:
        row = await bank.get_item(session, item_id=item_id)
        if row is None or (row.guild_id is not None and row.guild_id != guild_id):
            raise NotFound(f"There is no question #{item_id} on this server. See /question list.")
        if row.guild_id is None:
            raise BadInput(
                f"#{item_id} is a bundled question; only your server's own questions can be "
                "changed. See /question list."
            )
        if not row.active:
            raise NotFound(f"Question #{item_id} was removed. See /question list.")
        return row

    # -- add and edit ----------------------------------------------------------------------

    async def add(self, member: Learner, draft: QuestionDraft) -> Reply:
        """Store a new question from the add form; raises :class:`BadInput` if invalid."""
        item = build_item(draft)
        deck = draft.deck.strip()
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            rows = await bank.active_items_in_decks(session, guild_id=guild_id, decks=[deck])
            existing = self._existing_keys(rows).get((deck, question_key(item.prompt)))
            if existing is not None:
                raise BadInput(f"that question is already in {deck} as #{existing}")
            row = await bank.add_server_item(
                session,
                guild_id=guild_id,
                deck=deck,
                content=item,
                created_by=user_id,
                now=self._now(),
            )
            item_id = bank.saved_id(row.id)
            await crud.record_audit(
                session,
                guild_id=guild_id,
                actor_user_id=user_id,
                action="question.add",
                item_id=item_id,
                details={"deck": deck, "kind": item.kind, "question": short(item.prompt, 200)},
                now=self._now(),
            )
            await session.commit()
        log.info("guild %s: question #%s added to %s", guild_id, item_id, deck)
        return Reply(
            title=f"Added #{item_id} to {deck}",
            text=f"{short(item.prompt, 200)}\n\nIt shows up in /quiz, /practice and /test "
            "on this server right away.",
            tone=Tone.SUCCESS,
            footer=f"Change it with /question edit id:{item_id}.",
            private=True,
        )

    async def keep_draft(self, member: Learner, draft: QuestionDraft, item_id: int | None) -> str:
        """Keep a refused form for "Edit and retry" (restart-safe); returns its key.

        The key is ``<row id>-<unix time kept>``, so a key stays tied to its own draft even
        if the database later reuses the row id of an expired one.
        """
        now = self._now()
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            draft_id = await bank.keep_form_draft(
                session,
                user_id=user_id,
                guild_id=guild_id,
                item_id=item_id,
                fields=draft_fields(draft),
                now=now,
            )
            await session.commit()
        return f"{draft_id}-{int(now.timestamp())}"

    async def kept_draft(self, member: Learner, key: str) -> tuple[QuestionDraft, int | None]:
        """A kept form and the question it edits (None: a new one), for its owner only."""
        number, _, stamp = key.partition("-")
        if not number.isdecimal() or not stamp.isdecimal():
            raise ExpiredAction(DRAFT_GONE)
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            kept = await bank.get_form_draft(session, draft_id=int(number), now=self._now())
        if (
            kept is None
            or kept.guild_id != guild_id
            or int(kept.created_at.timestamp()) != int(stamp)
        ):
            raise ExpiredAction(DRAFT_GONE)
        if kept.user_id != user_id:
            raise BadInput("This isn't your form — start your own with /question add.")
        return draft_from_fields(kept.fields), kept.item_id

    async def draft_for_edit(self, member: Learner, item_id: int) -> QuestionDraft:
        """The current fields of one of the server's questions, for the edit form."""
        async with self.db.session() as session:
            row = await self._own_row(session, _server_id(member), item_id)
            return draft_from_item(row.deck, parse_item(row.payload))

    async def edit(self, member: Learner, item_id: int, draft: QuestionDraft) -> Reply:
        """Replace a question's content from the edit form (deck and kind stay)."""
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            row = await self._own_row(session, guild_id, item_id)
            fixed = QuestionDraft(
                deck=row.deck,
                kind=row.kind,
                difficulty=draft.difficulty,
                question=draft.question,
                options=draft.options,
                answer=draft.answer,
                explanation=draft.explanation,
                practice=draft.practice,
                code=draft.code,
            )
            item = build_item(fixed)
            rows = await bank.active_items_in_decks(session, guild_id=guild_id, decks=[row.deck])
            others = self._existing_keys(r for r in rows if r.id != row.id)
            existing = others.get((row.deck, question_key(item.prompt)))
            if existing is not None:
                raise BadInput(f"that question is already in {row.deck} as #{existing}")
            old_payload = dict(row.payload)
            await bank.update_server_item(session, row=row, content=item, now=self._now())
            if row.payload == old_payload:
                await session.rollback()
                return Reply(text=f"Nothing changed in #{item_id}.", tone=Tone.INFO, private=True)
            await crud.record_audit(
                session,
                guild_id=guild_id,
                actor_user_id=user_id,
                action="question.edit",
                item_id=item_id,
                details={"deck": row.deck, "before": old_payload, "after": dict(row.payload)},
                now=self._now(),
            )
            await session.commit()
        log.info("guild %s: question #%s edited", guild_id, item_id)
        return Reply(
            title=f"Saved #{item_id}",
            text=f"{short(item.prompt, 200)}\n\nMembers keep their progress on it.",
            tone=Tone.SUCCESS,
            private=True,
        )

    # -- import ----------------------------------------------------------------------------

    async def import_file(
        self, member: Learner, filename: str, data: bytes, *, deck: str | None = None
    ) -> ImportResult:
        """Import every question of a CSV or YAML file, or none of them.

        A file with any problem stores nothing; the reply lists the first problems and
        :attr:`ImportResult.report` holds all of them.
        """
        # Up to 1 MB of YAML or CSV: parse off the event loop so other members aren't held up.
        parsed = await asyncio.to_thread(parse_import, filename, data, deck=deck)
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            if parsed.questions:
                decks = {q.deck for q in parsed.questions}
                rows = await bank.active_items_in_decks(session, guild_id=guild_id, decks=decks)
                existing = self._existing_keys(rows)
                for question in parsed.questions:
                    found = existing.get((question.deck, question_key(question.item.prompt)))
                    if found is not None:
                        parsed.problems.append(
                            f"{question.where}: '{short(question.item.prompt, 50)}' is already "
                            f"in {question.deck} as #{found}"
                        )
            if not parsed.questions and not parsed.problems:
                parsed.problems.append("the file has no questions")
            if parsed.problems:
                await session.rollback()
                problems = sorted(parsed.problems, key=problem_position)
                return ImportResult(
                    import_refused_reply(filename, problems),
                    report=problem_report(filename, problems),
                )
            added: list[int] = []
            now = self._now()
            for question in parsed.questions:
                row = await bank.add_server_item(
                    session,
                    guild_id=guild_id,
                    deck=question.deck,
                    content=question.item,
                    created_by=user_id,
                    now=now,
                )
                item_id = bank.saved_id(row.id)
                added.append(item_id)
                await crud.record_audit(
                    session,
                    guild_id=guild_id,
                    actor_user_id=user_id,
                    action="question.import",
                    item_id=item_id,
                    details={
                        "file": filename[:100],
                        "where": question.where,
                        "deck": question.deck,
                        "question": short(question.item.prompt, 200),
                    },
                    now=now,
                )
            await session.commit()
        log.info("guild %s: imported %d questions from %s", guild_id, len(added), filename)
        decks_text = ", ".join(sorted({q.deck for q in parsed.questions}))
        return ImportResult(
            Reply(
                title=f"Imported {len(added)} question{'s' if len(added) != 1 else ''}",
                text=f"Into {decks_text}: #{added[0]}–#{added[-1]}. They show up in /quiz, "
                "/practice and /test on this server right away.",
                tone=Tone.SUCCESS,
                footer="See them with /question list.",
                private=True,
            )
        )

    # -- remove ----------------------------------------------------------------------------

    async def remove(self, member: Learner, item_id: int) -> Reply:
        """Retire a question (members' answers to it are kept)."""
        async with self.db.session() as session:
            guild_id, user_id = await self._actor(session, member)
            row = await self._own_row(session, guild_id, item_id)
            await bank.deactivate_item(session, row=row, now=self._now())
            question = str(row.payload.get("question", ""))
            await crud.record_audit(
                session,
                guild_id=guild_id,
                actor_user_id=user_id,
                action="question.remove",
                item_id=item_id,
                details={"deck": row.deck, "question": short(question, 200)},
                now=self._now(),
            )
            await session.commit()
        log.info("guild %s: question #%s removed", guild_id, item_id)
        return Reply(
            title=f"Removed #{item_id}",
            text=f"{short(question, 200)}\n\nIt no longer comes up; answers already given are "
            "kept in the stats.",
            tone=Tone.SUCCESS,
            private=True,
        )

    # -- list, export, stats ---------------------------------------------------------------

    async def list_page(self, member: Learner, page: int = 0, deck: str | None = None) -> Reply:
        """One page (10 questions) of the server's own questions, with Prev/Next choices."""
        guild_id = _server_id(member)
        deck = (deck or "").strip() or None
        async with self.db.session() as session:
            total = await bank.count_server_items(session, guild_id=guild_id, deck=deck)
            pages = page_count(total)
            page = min(max(page, 0), pages - 1)
            rows = await bank.server_items(
                session, guild_id=guild_id, deck=deck, offset=page * PAGE_SIZE, limit=PAGE_SIZE
            )
        where = f" in {deck}" if deck else ""
        if not rows:
            return Reply(
                title=f"Server questions{where}",
                text=f"No questions of your own{where} yet — add one with /question add "
                "or a file with /question import.",
                private=True,
            )
        lines = [
            f"`#{row.id}` · {row.deck} · {row.difficulty} · "
            f"{short(str(row.payload.get('question', '')), 70)}"
            for row in rows
        ]
        out = ReplyBuilder(
            title=f"Server questions{where} · page {page + 1} of {pages}",
            text="\n".join(lines),
            footer=f"{total} question{'s' if total != 1 else ''} · /question edit, "
            "remove or stats with the #id.",
            private=True,
        )
        if page > 0:
            out.choices.append(Choice("prev", "◀ Prev", list_token(page - 1, deck)))
        if page < pages - 1:
            out.choices.append(Choice("next", "Next ▶", list_token(page + 1, deck)))
        return out.build()

    async def export(self, member: Learner, deck: str | None = None) -> ExportResult:
        """The server's own questions as content/ deck files, one per deck."""
        guild_id = _server_id(member)
        deck = (deck or "").strip() or None
        async with self.db.session() as session:
            rows = await bank.server_items(session, guild_id=guild_id, deck=deck)
        where = f" in {deck}" if deck else ""
        if not rows:
            raise NotFound(
                f"No questions of your own{where} to export yet. Add some with /question add."
            )
        by_deck: dict[str, list[AnyItem]] = {}
        for row in rows:
            by_deck.setdefault(row.deck, []).append(parse_item(row.payload))
        stamp = self._now().strftime("%Y-%m-%d")
        server = member.guild_name or f"server {guild_id}"
        comment = (
            f"Exported from {server} on {stamp}.\n"
            "Re-import with /question import (ids are reassigned)."
        )
        names = sorted(by_deck)
        files = tuple(
            ExportFile(f"{name}.yaml", export_yaml(name, by_deck[name], comment=comment))
            for name in names[:MAX_EXPORT_FILES]
        )
        count = sum(len(by_deck[name]) for name in names[:MAX_EXPORT_FILES])
        text = f"{count} question{'s' if count != 1 else ''} in {len(files)} deck file(s)."
        if len(names) > MAX_EXPORT_FILES:
            rest = ", ".join(names[MAX_EXPORT_FILES:])
            text += f" More decks: {rest} — export each with /question export deck:<name>."
        reply = Reply(
            title=f"Export{where}",
            text=text,
            tone=Tone.SUCCESS,
            footer="Edit the file and send it back with /question import.",
            private=True,
        )
        return ExportResult(reply=reply, files=files)

    async def stats(self, member: Learner, item_id: int) -> Reply:
        """How members on this server answer one question, flagging a likely broken key."""
        guild_id = _server_id(member)
        async with self.db.session() as session:
            row = await bank.get_item(session, item_id=item_id)
            if row is None or (row.guild_id is not None and row.guild_id != guild_id):
                raise NotFound(f"There is no question #{item_id} here. See /question list.")
            counts = await bank.answer_counts(session, item_id=item_id, guild_id=guild_id)
        item = parse_item(row.payload)
        if not isinstance(item, ChoiceItem):
            raise BadInput(f"#{item_id} isn't a multiple-choice question, so it has no stats here.")
        figures = question_stats(item.options, item.correct_index, counts)
        return stats_reply(item_id, row.deck, item, figures, active=row.active)
