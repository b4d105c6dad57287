"""One question at a time: quiz, practice and explain prompts, and their hints."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.content import Explain, Practice, Typed
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.core.sessions import StudyItem
from bot.core.study_replies import MODE_KINDS, MODE_NOUNS, question_reply
from bot.errors import BadInput, NotFound
from bot.services.review import check_tag_in_use, clean_tag, run_tag, start_tagged_run
from bot.services.study_context import StudyContext, prompt_id_of
from bot.storage import crud
from bot.storage.models import Item, Prompt


class PracticeService:
    """Multiple-choice questions, worked problems and explain prompts on demand."""

    def __init__(self, context: StudyContext) -> None:
        self.context = context

    async def ask(
        self,
        learner: Learner,
        mode: str,
        deck: str | None = None,
        difficulty: str | None = None,
        *,
        shared: bool = False,
        tag: str | None = None,
        run_id: int | None = None,
    ) -> Reply:
        """A question for ``mode`` (``quiz``, ``practice`` or ``explain``).

        ``shared`` posts it for everyone in a channel: any member may answer, once each.
        ``tag`` picks only questions carrying it; ``run_id`` continues a tagged run (its
        "Another one" button), whose tag it uses. A private tagged question starts a run,
        so its "Another one" keeps the tag.
        """
        if mode not in MODE_KINDS:
            raise BadInput("Pick quiz, practice or explain.")
        ctx = self.context
        async with ctx.db.session() as session:
            user = await ctx.member(session, learner)
            deck, difficulty = await ctx.check_filters(session, learner, deck, difficulty)
            tag = clean_tag(tag) if run_id is None else await run_tag(session, user, run_id)
            # Count, then load only the chosen row: a big bank is never read whole.
            kinds = MODE_KINDS[mode]
            count = await crud.count_active_items(
                session,
                guild_id=learner.guild_id,
                deck=deck,
                kinds=kinds,
                difficulty=difficulty,
                tag=tag,
            )
            row = None
            if count:
                row = await crud.nth_active_item(
                    session,
                    ctx.rng.randrange(count),
                    guild_id=learner.guild_id,
                    deck=deck,
                    kinds=kinds,
                    difficulty=difficulty,
                    tag=tag,
                )
            if row is None:
                if tag:
                    await check_tag_in_use(session, learner.guild_id, tag)
                tagged = f" tagged '{tag}'" if tag else ""
                where = f" in {deck}" if deck else ""
                level = f" at {difficulty} level" if difficulty else ""
                other = "tag, deck or difficulty" if tag else "deck or difficulty"
                raise NotFound(
                    f"No {MODE_NOUNS[mode]}{tagged}{level}{where} yet. Try another {other}."
                )
            if tag and not shared and run_id is None:
                run_id = await start_tagged_run(session, user, tag, ctx.now())
            item = ctx.items.of_row(row)
            prompt = await ctx.new_prompt(
                session,
                item,
                None if shared else user,
                learner,
                mode,
                session_id=None if shared else run_id,
            )
            reply = question_reply(item, prompt_id_of(prompt), private=not shared)
            await session.commit()
            return reply

    async def quiz(
        self,
        learner: Learner,
        deck: str | None = None,
        difficulty: str | None = None,
        *,
        shared: bool = False,
        tag: str | None = None,
    ) -> Reply:
        """One multiple-choice question (``tag``: one carrying that tag)."""
        return await self.ask(learner, "quiz", deck, difficulty, shared=shared, tag=tag)

    async def practice(
        self, learner: Learner, deck: str | None = None, difficulty: str | None = None
    ) -> Reply:
        """One worked practice problem with a hint and a full solution after answering."""
        return await self.ask(learner, "practice", deck, difficulty)

    async def explain(self, learner: Learner, deck: str | None = None) -> Reply:
        """A prompt to explain a concept in the member's own words."""
        return await self.ask(learner, "explain", deck)

    async def present_item(
        self, learner: Learner, item_id: int, mode: str, *, shared: bool = False
    ) -> Reply:
        """Show one specific item (e.g. a daily-quiz question taken later, privately).

        ``shared`` leaves the prompt open to every member (one answer each).
        """
        ctx = self.context
        async with ctx.db.session() as session:
            user = await ctx.member(session, learner)
            row = await session.get(Item, item_id)
            if row is None or not row.active:
                raise NotFound("That question is no longer available.")
            if row.guild_id is not None and row.guild_id != learner.guild_id:
                raise NotFound("That question is no longer available.")
            item = ctx.items.of_row(row)
            prompt = await ctx.new_prompt(session, item, None if shared else user, learner, mode)
            reply = question_reply(item, prompt_id_of(prompt), private=not shared)
            await session.commit()
            return reply

    async def hint(self, session: AsyncSession, item: StudyItem, prompt: Prompt) -> Reply:
        """The question again with its hint shown (the first time is recorded)."""
        has_hint = isinstance(item.content, Practice | Explain) or (
            isinstance(item.content, Typed) and item.content.hint is not None
        )
        if not has_hint:
            raise BadInput("This question has no hint.")
        if prompt.hint_shown_at is None:
            prompt.hint_shown_at = self.context.now()
            session.add(prompt)
            await session.commit()
        heading = ""
        if prompt.mode == "test" and prompt.position is not None:
            heading = f"Test · question {prompt.position + 1} · {item.difficulty}"
        return question_reply(
            item, prompt_id_of(prompt), heading=heading, hint_shown=True, private=True
        )
