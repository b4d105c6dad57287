"""Building the study services in tests, as the composition root does."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

from bot.console.app import ConsoleCommand
from bot.console.questions import question_commands
from bot.core.clock import Clock
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.core.scheduling import CardState, SchedulerConfig
from bot.services.deck_export import DeckExportService
from bot.services.deck_import import DeckImportService
from bot.services.question_bank import QuestionBankService
from bot.services.study import StudyServices
from bot.services.study_context import StudyConfig, StudyContext, user_id_of
from bot.storage.answer_store import open_answer_store
from bot.storage.db import Database
from bot.storage.due_queue import save_review_state
from bot.storage.models import Item, Prompt


def build_study(
    db: Database,
    clock: Clock,
    *,
    new_items_per_day: int = 20,
    seed: int = 7,
    fuzzing: bool = False,
    timezone: str = "UTC",
) -> StudyServices:
    """Study services over ``db`` with fuzz-free FSRS and a seeded RNG (close them after)."""
    context = StudyContext(
        db,
        clock=clock,
        config=StudyConfig(
            new_items_per_day=new_items_per_day,
            timezone=timezone,
            scheduler=SchedulerConfig(enable_fuzzing=fuzzing),
        ),
        rng=random.Random(seed),
    )
    return StudyServices.build(context, store=open_answer_store(db.url))


def console_question_commands(
    study: StudyServices, export_dir: Path, *, media_dir: Path | None = None
) -> dict[str, ConsoleCommand]:
    """The console's ``/question`` command over the study database, as the root wires it."""
    db, clock = study.context.db, study.context.clock
    media = media_dir or export_dir.parent / "media"
    return question_commands(
        QuestionBankService(db, clock=clock),
        imports=DeckImportService(db, clock=clock, srs=study.context.srs, media_dir=media),
        exports=DeckExportService(db, clock=clock, media_dir=media),
        deck_names=study.decks.decks,
        clock=clock,
        export_dir=export_dir,
    )


def choice_action(reply: Reply, key: str) -> str:
    """The action of the reply's choice ``key`` (fails the test when there is none)."""
    found = reply.choice_for(key)
    assert found is not None, f"no {key!r} in {[c.key for c in reply.choices]}"
    return found.action


async def shown_item(study: StudyServices, reply: Reply) -> Item:
    """The stored item a question reply shows (read through its prompt)."""
    prompt_id = int(reply.choices[0].action.split(":")[1])
    async with study.context.db.session() as s:
        prompt = await s.get(Prompt, prompt_id)
        assert prompt is not None
        item = await s.get(Item, prompt.item_id)
        assert item is not None
        return item


async def seed_card(
    study: StudyServices,
    learner: Learner,
    item_id: int,
    *,
    due: datetime,
    stability: float | None = None,
    reviewed: datetime | None = None,
) -> None:
    """Give ``learner`` a card for ``item_id`` due at ``due`` (a review card with a memory
    state when ``stability`` is given, else a learning card)."""
    ctx = study.context
    state = CardState(
        due=due,
        state=2 if stability is not None else 1,
        step=None if stability is not None else 0,
        stability=stability,
        difficulty=5.0 if stability is not None else None,
        last_review=reviewed,
    )
    async with ctx.db.session() as session:
        user_id = user_id_of(await ctx.member(session, learner))
        await save_review_state(
            session, user_id=user_id, item_id=item_id, state=state, now=ctx.now()
        )
        await session.commit()
