"""Spaced-repetition review: the member's next due card, new cards within the daily cap,
the questions they got wrong lately (``/review mistakes``), and runs limited to one tag.

A run limited to a tag (``/review tag:…``, ``/quiz tag:…``) is a study session of kind
:data:`TAGGED_RUN` whose ``deck`` column holds the tag; its prompts point at it, so the
"Next" button after an answer keeps the tag (see :mod:`bot.core.actions`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import actions
from bot.core.content import Flashcard
from bot.core.learners import Learner
from bot.core.letters import MISTAKES_MODE
from bot.core.replies import Reply, Tone, plural
from bot.core.scheduling import describe_interval
from bot.core.sessions import StudyItem
from bot.core.study_replies import caught_up_reply, question_reply, revealed_reply
from bot.errors import BadInput, ExpiredAction, NotFound
from bot.services.exam import active_plan
from bot.services.study_context import StudyContext, prompt_id_of, user_id_of
from bot.storage import crud, due_queue
from bot.storage import exams as exam_store
from bot.storage import mistakes as mistakes_store
from bot.storage import tags as tag_store
from bot.storage.models import Item, Prompt, StudySession, User

#: Footer labels of what an exam plan adds to /review.
EXAM_REVIEW = "Review · brought forward for your exam"
EXAM_NEW = "New · exam plan"
#: The review footer counts due cards up to this many ("99+ due now").
DUE_SHOWN_MAX = 99
#: Kind of the study session that holds a run's tag.
TAGGED_RUN = "tagged"
#: The longest tag a member can ask for (a stored tag has at most 60 characters).
MAX_TAG_CHARS = 60
#: Tags listed when a member asks for one nobody uses.
TAGS_LISTED = 10
#: Tags offered to autocomplete (it shows those containing what was typed).
TAGS_OFFERED = 200


class ReviewService:
    """Picks what a member reviews or retries next and reveals flashcards."""

    def __init__(self, context: StudyContext) -> None:
        self.context = context

    async def review(self, learner: Learner, tag: str | None = None) -> Reply:
        """The member's next due item, or a new one within today's limit (``tag``: only
        items carrying it)."""
        async with self.context.db.session() as session:
            user = await self.context.member(session, learner)
            reply = await self.next_review(session, learner, user, tag=clean_tag(tag))
            await session.commit()
            return reply

    async def mistakes(self, learner: Learner, tag: str | None = None) -> Reply:
        """The next question the member got wrong lately and has to retry (``tag``: only
        questions carrying it); see :mod:`bot.storage.mistakes` for which and in what order."""
        async with self.context.db.session() as session:
            user = await self.context.member(session, learner)
            reply = await self.next_mistake(session, learner, user, tag=clean_tag(tag))
            await session.commit()
            return reply

    async def next_in_queue(
        self, session: AsyncSession, learner: Learner, user: User, action: actions.Next
    ) -> Reply:
        """The "Next" button of a review or of mistakes (a tagged run keeps its tag)."""
        run_id = action.session_id
        tag = None if run_id is None else await run_tag(session, user, run_id)
        if action.mode == MISTAKES_MODE:
            return await self.next_mistake(session, learner, user, tag=tag, run_id=run_id)
        return await self.next_review(session, learner, user, tag=tag, run_id=run_id)

    async def next_review(
        self,
        session: AsyncSession,
        learner: Learner,
        user: User,
        *,
        tag: str | None = None,
        run_id: int | None = None,
    ) -> Reply:
        """The next review for ``user`` inside an open session (the caller commits).

        ``tag`` (case-folded, see :func:`clean_tag`) limits it to items carrying that tag;
        ``run_id`` is the tagged run already started, if any.
        """
        ctx = self.context
        user_id = user_id_of(user)
        guild_id = learner.guild_id
        now = ctx.now()
        timezone, new_per_day = await ctx.study_preferences(session, learner)
        row = await due_queue.next_due_item(
            session, user_id=user_id, guild_id=guild_id, now=now, tag=tag
        )
        label = "Review"
        if row is None:
            row, label = await self._after_due(
                session, learner, user_id, timezone, new_per_day, tag
            )
        if row is None:
            return await self._caught_up(session, learner, user_id, new_per_day, tag)
        if tag and run_id is None:
            run_id = await start_tagged_run(session, user, tag, now)
        item = ctx.items.of_row(row)
        prompt = await ctx.new_prompt(session, item, user, learner, "review", session_id=run_id)
        due = await due_queue.count_due(
            session, user_id=user_id, guild_id=guild_id, now=now, cap=DUE_SHOWN_MAX + 1, tag=tag
        )
        reply = question_reply(item, prompt_id_of(prompt), private=True)
        shown = f"{DUE_SHOWN_MAX}+" if due > DUE_SHOWN_MAX else str(due)
        if tag:
            label = f"{label} · tagged {tag}"
        footer = f"{label} · {shown} due now" if due else label
        return replace(reply, footer=f"{footer} · {reply.footer}")

    async def _after_due(
        self,
        session: AsyncSession,
        learner: Learner,
        user_id: int,
        timezone: str,
        new_per_day: int,
        tag: str | None,
    ) -> tuple[Item | None, str]:
        """What comes after the due cards: with an upcoming exam (untagged runs), the reviews
        its plan brings forward to today; then a new card within today's cap, which the
        plan raises when it needs more new cards a day (from the exam's deck)."""
        ctx = self.context
        guild_id = learner.guild_id
        since = ctx.today_start(timezone)
        exam = None if tag else await active_plan(ctx, session, learner, user_id)
        if exam is not None:
            for pull in exam.plan.pulled:
                if pull.review_on > exam.plan.today:
                    break
                item_id = pull.item_id
                card = exam.cards.get(item_id)
                if card is not None and card.last_review is not None and card.last_review < since:
                    row = await session.get(Item, item_id)
                    if row is not None and row.active:
                        return row, EXAM_REVIEW
        # Another server's own questions don't use up this server's new-card budget;
        # the budget is the same with a tag or without.
        new_today = await due_queue.count_new_since(
            session, user_id=user_id, guild_id=guild_id, since=since
        )
        if new_today < new_per_day:
            row = await due_queue.next_new_item(
                session, user_id=user_id, guild_id=guild_id, tag=tag
            )
            if row is not None or exam is None:
                return row, "New"
        if exam is not None and exam.new_left_today > 0:
            row = await exam_store.next_unseen_in(
                session, user_id=user_id, guild_id=guild_id, deck=exam.exam.deck
            )
            return row, EXAM_NEW
        return None, "New"

    async def next_mistake(
        self,
        session: AsyncSession,
        learner: Learner,
        user: User,
        *,
        tag: str | None = None,
        run_id: int | None = None,
    ) -> Reply:
        """The next mistake to retry, inside an open session (the caller commits).

        Answering it records an attempt (mode ``mistakes``) and reviews the card as usual.
        """
        ctx = self.context
        user_id = user_id_of(user)
        guild_id = learner.guild_id
        now = ctx.now()
        found = await mistakes_store.next_mistake(
            session, user_id=user_id, guild_id=guild_id, now=now, tag=tag
        )
        if found is None:
            if tag:
                await check_tag_in_use(session, guild_id, tag)
            return nothing_to_retry_reply(tag)
        row, mistake = found
        if tag and run_id is None:
            run_id = await start_tagged_run(session, user, tag, now)
        item = ctx.items.of_row(row)
        prompt = await ctx.new_prompt(
            session, item, user, learner, MISTAKES_MODE, session_id=run_id
        )
        left = await mistakes_store.count_mistakes(
            session, user_id=user_id, guild_id=guild_id, now=now, tag=tag
        )
        reply = question_reply(item, prompt_id_of(prompt), private=True)
        return replace(reply, footer=f"{mistake_footer(mistake, left, tag)} · {reply.footer}")

    async def tags(self, learner: Learner) -> list[str]:
        """The tags of the questions visible to the member, the most used first (up to
        :data:`TAGS_OFFERED`, for autocomplete)."""
        async with self.context.db.session() as session:
            return await tag_store.tags_in_use(
                session, guild_id=learner.guild_id, limit=TAGS_OFFERED
            )

    async def _caught_up(
        self,
        session: AsyncSession,
        learner: Learner,
        user_id: int,
        new_per_day: int,
        tag: str | None,
    ) -> Reply:
        now = self.context.now()
        guild_id = learner.guild_id
        if tag:
            await check_tag_in_use(session, guild_id, tag)
        upcoming = await due_queue.next_due_after(
            session, user_id=user_id, guild_id=guild_id, now=now, tag=tag
        )
        unseen = await due_queue.count_unseen(session, user_id=user_id, guild_id=guild_id, tag=tag)
        next_in = describe_interval(upcoming - now) if upcoming is not None else None
        if tag:
            return tag_caught_up_reply(tag, next_in=next_in, unseen=unseen)
        return caught_up_reply(next_in=next_in, unseen=unseen, new_per_day=new_per_day)

    async def reveal(self, session: AsyncSession, item: StudyItem, prompt: Prompt) -> Reply:
        """Show a flashcard's back with the rating buttons (the first reveal is recorded)."""
        if not isinstance(item.content, Flashcard):
            raise ExpiredAction("Only flashcards can be revealed. Pick an answer instead.")
        if prompt.revealed_at is None:
            prompt.revealed_at = self.context.now()
            session.add(prompt)
            await session.commit()
        return revealed_reply(item, prompt_id_of(prompt))


# -- tags ---------------------------------------------------------------------------------


def clean_tag(tag: str | None) -> str | None:
    """The tag a member typed, as tags are stored (case-folded); None for no tag.

    Raises :class:`BadInput` for text that cannot be a tag (spaces, too long).
    """
    folded = (tag or "").strip().casefold()
    if not folded:
        return None
    if len(folded.split()) > 1:
        raise BadInput("A tag is one word without spaces, like bio::cells. Pick one tag.")
    if len(folded) > MAX_TAG_CHARS:
        raise BadInput(f"Tags are at most {MAX_TAG_CHARS} characters. Check the tag's spelling.")
    return folded


async def check_tag_in_use(session: AsyncSession, guild_id: int | None, tag: str) -> None:
    """Raise a friendly :class:`NotFound` listing the tags in use when no question here
    carries ``tag``."""
    if await tag_store.tag_in_use(session, guild_id=guild_id, tag=tag):
        return
    in_use = await tag_store.tags_in_use(session, guild_id=guild_id, limit=TAGS_LISTED)
    if in_use:
        raise NotFound(
            f"No questions are tagged '{tag}' here. Tags in use: {', '.join(in_use)}. "
            "Pick one of those, or leave the tag out."
        )
    raise NotFound(
        f"No questions are tagged '{tag}' here — none have tags yet. Leave the tag out to "
        "study everything."
    )


async def start_tagged_run(session: AsyncSession, user: User, tag: str, now: datetime) -> int:
    """Start a run limited to ``tag`` (its id goes into the prompts and the Next button)."""
    run = await crud.create_study_session(
        session, user_id=user_id_of(user), kind=TAGGED_RUN, deck=None, tag=tag, item_ids=[], now=now
    )
    if run.id is None:
        raise ExpiredAction(actions.EXPIRED_MESSAGE)
    return run.id


async def run_tag(session: AsyncSession, user: User, run_id: int) -> str:
    """The tag of the member's tagged run ``run_id`` (an expired-button error otherwise)."""
    run = await session.get(StudySession, run_id)
    if run is None or run.kind != TAGGED_RUN or run.user_id != user.id or not run.tag:
        raise ExpiredAction(actions.EXPIRED_MESSAGE)
    return run.tag


# -- replies ------------------------------------------------------------------------------


def mistake_footer(mistake: mistakes_store.Mistake, left: int, tag: str | None) -> str:
    """``Retry · 3 to go · right 1 of 2 in a row``: where the member is with their mistakes."""
    parts = ["Retry" if not tag else f"Retry · tagged {tag}", f"{left} to go"]
    if mistake.right_since:
        parts.append(f"right {mistake.right_since} of {mistakes_store.RIGHT_IN_A_ROW} in a row")
    else:
        times = "once" if mistake.misses == 1 else f"{mistake.misses} times"
        parts.append(f"missed {times} lately")
    return " · ".join(parts)


def nothing_to_retry_reply(tag: str | None) -> Reply:
    """No mistake left to retry (with ``tag``: none carrying it)."""
    days = mistakes_store.MISTAKE_WINDOW.days
    times = {1: "once", 2: "twice"}.get(
        mistakes_store.RIGHT_IN_A_ROW, plural(mistakes_store.RIGHT_IN_A_ROW, "time")
    )
    first = (
        f"Nothing tagged '{tag}' to retry — you got those right the last two times. 🎉"
        if tag
        else "Nothing to retry — you got everything right the last two times. 🎉"
    )
    text = (
        f"{first}\nQuestions you miss come back here for {days} days, until you get them "
        f"right {times} in a row. "
        "Carry on with /review, or try /quiz or /test."
    )
    return Reply(title="No mistakes to retry", text=text, tone=Tone.SUCCESS, private=True)


def tag_caught_up_reply(tag: str, *, next_in: str | None, unseen: int) -> Reply:
    """Nothing tagged ``tag`` is due and no new card with it is left today."""
    parts = [f"Nothing tagged '{tag}' is due right now."]
    if next_in is not None:
        parts.append(f"The next one is due {next_in}.")
    if unseen:
        parts.append(
            f"Today's new cards are used up; {unseen} more tagged '{tag}' unlock from tomorrow."
        )
    elif next_in is None:
        parts.append(f"You've seen every card tagged '{tag}'.")
    return Reply(
        title="All caught up 🎉",
        text=" ".join(parts) + f"\nTry /review without a tag, or /quiz tag:{tag}.",
        tone=Tone.SUCCESS,
        private=True,
    )
