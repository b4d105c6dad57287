"""A server's own question bank: the service behind ``/question`` (Discord and console).

Moderators add, edit and remove multiple-choice and practice questions and explain
prompts that only their server sees, add accepted answers to typed questions, list them,
and see how members answer them (importing is :mod:`bot.services.deck_import`, exporting
:mod:`bot.services.deck_export`). The rules live in core (:mod:`bot.core.question_drafts`,
:mod:`bot.core.question_files`, :mod:`bot.core.question_stats`,
:mod:`bot.core.question_list`); this service stores the results through
:mod:`bot.storage.bank` and answers with neutral replies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.content import MAX_ANSWERS, ChoiceItem, Typed, is_blank, parse_item, payload_prompt
from bot.core.learners import Learner
from bot.core.permissions import SERVER_ONLY
from bot.core.question_drafts import (
    DRAFT_GONE,
    MAX_OPTION,
    QuestionDraft,
    build_item,
    draft_fields,
    draft_from_fields,
    draft_from_item,
    question_key,
    short,
)
from bot.core.question_list import PAGE_SIZE, list_token, page_count
from bot.core.question_stats import question_stats, stats_reply
from bot.core.replies import Choice, Reply, ReplyBuilder, Tone
from bot.errors import BadInput, ExpiredAction, NotFound, PermissionDenied
from bot.log import get_logger
from bot.services._guilds import bank_actor
from bot.storage import bank, crud
from bot.storage.db import Database
from bot.storage.models import Item

log = get_logger(__name__)


def _server_id(member: Learner) -> int:
    if member.guild_id is None:
        raise PermissionDenied(SERVER_ONLY)
    return member.guild_id


def _served_by(kind: str) -> str:
    """The commands that serve a newly added question of ``kind``."""
    return "/explain" if kind == "explain" else "/quiz, /practice and /test"


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

    @staticmethod
    def _existing_keys(rows: Iterable[Item]) -> dict[tuple[str, str], int]:
        keys: dict[tuple[str, str], int] = {}
        for row in rows:
            text = payload_prompt(row.payload)
            if text and row.id is not None:
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
            guild_id, user_id = await bank_actor(session, member)
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
            text=f"{short(item.prompt, 200)}\n\nIt shows up in {_served_by(item.kind)} "
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
            guild_id, user_id = await bank_actor(session, member)
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
            guild_id, user_id = await bank_actor(session, member)
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
            guild_id, user_id = await bank_actor(session, member)
            row = await self._own_row(session, guild_id, item_id)
            fixed = replace(draft, deck=row.deck, kind=row.kind)
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

    # -- accepted answers ------------------------------------------------------------------

    async def accept(self, member: Learner, item_id: int, answer: str) -> Reply:
        """Add an accepted answer to one of the server's typed questions."""
        text = " ".join(answer.split())
        if not text or is_blank(text):
            raise BadInput("Type the answer to accept, e.g. /question accept 12 gradient descent.")
        if len(text) > MAX_OPTION:
            raise BadInput(f"Keep an accepted answer under {MAX_OPTION} characters.")
        async with self.db.session() as session:
            guild_id, user_id = await bank_actor(session, member)
            row = await self._own_row(session, guild_id, item_id)
            item = parse_item(row.payload)
            if not isinstance(item, Typed):
                raise BadInput(
                    f"#{item_id} isn't a typed question, so it has no accepted answers. "
                    "Edit it with /question edit."
                )
            if any(question_key(known) == question_key(text) for known in item.answers):
                raise BadInput(f"'{short(text, 60)}' is already accepted for #{item_id}.")
            if len(item.answers) >= MAX_ANSWERS:
                raise BadInput(
                    f"#{item_id} already accepts {MAX_ANSWERS} answers, the most it can. "
                    "Export the deck, trim the list and import it again."
                )
            updated = item.model_copy(update={"answers": [*item.answers, text]})
            await bank.update_server_item(session, row=row, content=updated, now=self._now())
            await crud.record_audit(
                session,
                guild_id=guild_id,
                actor_user_id=user_id,
                action="question.accept",
                item_id=item_id,
                details={"deck": row.deck, "answer": text},
                now=self._now(),
            )
            await session.commit()
        log.info("guild %s: question #%s accepts one more answer", guild_id, item_id)
        listed = ", ".join(f"*{known}*" for known in updated.answers)
        return Reply(
            title=f"#{item_id} accepts '{short(text, 60)}'",
            text=f"{short(item.question, 200)}\n\nAccepted answers: {listed}",
            tone=Tone.SUCCESS,
            footer="Answers already given keep their grade.",
            private=True,
        )

    # -- remove ----------------------------------------------------------------------------

    async def remove(self, member: Learner, item_id: int) -> Reply:
        """Retire a question (members' answers to it are kept)."""
        async with self.db.session() as session:
            guild_id, user_id = await bank_actor(session, member)
            row = await self._own_row(session, guild_id, item_id)
            await bank.deactivate_item(session, row=row, now=self._now())
            question = payload_prompt(row.payload)
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
            f"`#{row.id}` · {row.deck} · {row.kind} · {row.difficulty} · "
            f"{short(payload_prompt(row.payload), 70)}"
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
