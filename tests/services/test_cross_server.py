"""Nothing of one server shows in another: /stats, leaderboards, question stats, daily quizzes.

Server A and server B share a member, Sam. Sam's twin, Tam (also shown as "Sam"), does
exactly what Sam does in A and never sets foot in B; B has its own questions, members,
answers and daily quiz. So everything A shows about Sam must equal what it shows about Tam
— any difference is something of B's leaking into A. Leaderboards and question stats have
no twin: they are taken before B's activity and must not change after it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.core.clock import FakeClock
from bot.core.content import ChoiceItem
from bot.core.learners import Learner
from bot.core.question_drafts import QuestionDraft
from bot.core.replies import Reply
from bot.errors import NotFound
from bot.services.daily_quiz import DailyQuizService
from bot.services.leaderboard import LeaderboardService
from bot.services.question_bank import QuestionBankService
from bot.services.server_settings import ServerSettingsService
from bot.services.study import StudyServices
from bot.storage.db import Database
from bot.storage.models import DailyQuiz, Item
from tests.daily_helpers import utc

SERVER_A = 5_000_001
SERVER_B = 5_000_002
B_DECK = "b-only"


def on(server: int, external_id: str, name: str) -> Learner:
    return Learner("discord", external_id, name, guild_id=server, guild_name=f"Server {server}")


SAM_A = on(SERVER_A, "7", "Sam")
SAM_B = on(SERVER_B, "7", "Sam")
TAM_A = on(SERVER_A, "8", "Sam")  # Sam's twin: same name, same deeds in A, never in B
ANN_A = on(SERVER_A, "9", "Ann")  # A's moderator, looks at other members' figures
BEA_B = on(SERVER_B, "10", "Bea")  # B's moderator and member


def b_question(number: int) -> QuestionDraft:
    return QuestionDraft(
        deck=B_DECK,
        kind="mcq",
        difficulty="easy",
        question=f"Server B's own question number {number}?",
        options="Yes\nNo",
        answer="Yes",
        explanation="Only server B knows.",
    )


async def add_b_question(bank: QuestionBankService, number: int) -> int:
    added = await bank.add(BEA_B, b_question(number))
    return int(added.title.split("#")[1].split()[0])


async def bundled_mcq_ids(db: Database) -> list[int]:
    async with db.session() as session:
        statement = select(Item.id).where(col(Item.guild_id).is_(None), Item.kind == "mcq")
        return [i for i in (await session.exec(statement.order_by(col(Item.id)))).all() if i]


async def right_option(study: StudyServices, item_id: int) -> int:
    async with study.context.db.session() as session:
        item = await study.context.load_item(session, item_id)
    assert isinstance(item.content, ChoiceItem)
    return item.content.correct_index


async def answer(study: StudyServices, learner: Learner, item_id: int, *, right: bool) -> None:
    """Show ``item_id`` to ``learner`` as a quiz question and answer it right or wrong."""
    shown = await study.practice.present_item(learner, item_id, "quiz")
    correct = await right_option(study, item_id)
    option = correct if right else (correct + 1) % len(shown.choices)
    await study.actions.act(learner, shown.choices[option].action)


def without_image(reply: Reply) -> Reply:
    return replace(reply, image=None)


@dataclass
class AFigures:
    """What server A shows that has no twin to compare with."""

    boards: list[Reply]
    question_stats: list[Reply]


async def a_figures(
    boards: LeaderboardService, bank: QuestionBankService, items: list[int]
) -> AFigures:
    return AFigures(
        boards=[await boards.show(SAM_A, period) for period in ("week", "month", "all")]
        + [await boards.show(TAM_A, "all", "tensorflow-training-basics")],
        question_stats=[await bank.stats(ANN_A, item_id) for item_id in items],
    )


async def test_nothing_of_server_b_shows_in_server_a(
    study: StudyServices, db: Database, clock: FakeClock
) -> None:
    bank = QuestionBankService(db, clock=clock)
    boards = LeaderboardService(db, clock=clock)
    mcqs = await bundled_mcq_ids(db)
    b_items = [await add_b_question(bank, number) for number in range(3)]
    settings = ServerSettingsService(db, clock=clock)
    await settings.set_new_per_day(ANN_A, 5)  # so B's new cards of today would show in A

    # Day 0 in A: Sam and Tam answer the same questions the same way; Ann once.
    for twin in (SAM_A, TAM_A):
        for item_id, right in zip(mcqs[:3], (True, False, True), strict=True):
            await answer(study, twin, item_id, right=right)
    await answer(study, ANN_A, mcqs[0], right=False)
    before = await a_figures(boards, bank, mcqs)

    # B: its own questions and members, Sam studying there for three more days, and a
    # daily quiz on B's own deck; Bea also answers A's questions there, all wrong.
    await settings.configure_daily(
        BEA_B, channel_id=88, time_text="09:00", timezone="UTC", questions=3, deck=B_DECK
    )
    b_daily = DailyQuizService(
        db, clock=clock, presenter=study.practice, answers=study.actions, rng=random.Random(5)
    )
    for item_id in mcqs:
        await answer(study, BEA_B, item_id, right=False)
    for day in range(4):
        clock.set(utc(2026, 1, 5 + day, 9))
        if day == 3:  # a card Sam sees for the first time today
            b_items.append(await add_b_question(bank, 3))
        for item_id in b_items:
            await answer(study, SAM_B, item_id, right=day != 1)
        if day == 1:
            posted = await b_daily.run_schedule(SERVER_B)
            assert posted.post is not None
            await b_daily.mark_open(posted.post.quiz_id, message_id=5)
            for question in posted.post.questions:
                await b_daily.answer(SAM_B, question.choices[0].action)
            clock.set(utc(2026, 1, 6, 9, 45))
            assert await b_daily.close(posted.post.quiz_id) is not None
    clock.set(utc(2026, 1, 8, 10))

    # B's figures are really there …
    in_b = await study.stats.stats_summary(SAM_B)
    assert in_b.answered >= 15 and in_b.streak_days == 4
    assert B_DECK in {deck.deck for deck in in_b.decks}
    assert in_b.retention.reviews > 0
    # … yet in A, Sam's figures are exactly his twin's, as numbers and as replies.
    sam, tam = await study.stats.stats_summary(SAM_A), await study.stats.stats_summary(TAM_A)
    assert sam == tam
    assert (sam.answered, sam.correct, sam.streak_days, sam.new_available) == (3, 2, 0, 5)
    assert B_DECK not in {deck.deck for deck in sam.decks}
    sam_reply, tam_reply = await study.stats.stats(SAM_A), await study.stats.stats(TAM_A)
    assert without_image(sam_reply) == without_image(tam_reply)
    assert (sam_reply.image is None) == (tam_reply.image is None)
    assert await study.stats.stats_summary(ANN_A, member=SAM_B) == (
        await study.stats.stats_summary(ANN_A, member=TAM_A)
    )
    # Leaderboards and question stats in A did not move; Bea is nowhere.
    after = await a_figures(boards, bank, mcqs)
    assert after == before
    assert all("Bea" not in board.text for board in after.boards)
    # B's own questions don't exist for A.
    for item_id in b_items:
        with pytest.raises(NotFound):
            await bank.stats(ANN_A, item_id)


async def test_another_servers_daily_quiz_leaves_this_ones_results_and_catch_up_alone(
    study: StudyServices, db: Database, clock: FakeClock
) -> None:
    settings = ServerSettingsService(db, clock=clock)
    daily = DailyQuizService(
        db, clock=clock, presenter=study.practice, answers=study.actions, rng=random.Random(3)
    )
    for admin, channel in ((ANN_A, 77), (BEA_B, 88)):
        await settings.configure_daily(
            admin, channel_id=channel, time_text="09:00", timezone="UTC", questions=10
        )
    clock.set(utc(2026, 1, 5, 9))
    posts = {}
    for server in (SERVER_A, SERVER_B):
        outcome = await daily.run_schedule(server)
        assert outcome.post is not None
        await daily.mark_open(outcome.post.quiz_id, message_id=server)
        posts[server] = outcome.post
    a_post, b_post = posts[SERVER_A], posts[SERVER_B]
    async with db.session() as session:
        a_quiz = await session.get(DailyQuiz, a_post.quiz_id)
        b_quiz = await session.get(DailyQuiz, b_post.quiz_id)
        assert a_quiz is not None and b_quiz is not None
    # Both servers ask the same ten bundled questions (in their own order).
    assert sorted(a_quiz.item_ids) == sorted(b_quiz.item_ids)
    first = await right_option(study, a_quiz.item_ids[0])
    for twin in (SAM_A, TAM_A):
        await daily.answer(twin, a_post.questions[0].choices[first].action)
    for number, item_id in enumerate(b_quiz.item_ids):
        right = await right_option(study, item_id)
        await daily.answer(SAM_B, b_post.questions[number].choices[right].action)
        await daily.answer(BEA_B, b_post.questions[number].choices[right].action)

    clock.set(utc(2026, 1, 5, 10, 30))
    a_results = await daily.close(a_post.quiz_id)
    b_results = await daily.close(b_post.quiz_id)
    assert a_results is not None and b_results is not None
    assert b_results.reply.text == "2 members answered · 2 got everything right."
    reply = a_results.reply
    assert reply.text == "2 members answered · 0 got everything right."
    fields = {field.name: field.value for field in reply.fields}
    assert fields.pop("Top scorers") == "🥇 Sam, Sam — 1/10"
    tallies = [value.rsplit("\n", 1)[-1] for value in fields.values()]
    assert tallies == ["✅ 2 of 2 answered correctly"] + ["✅ 0 of 0 answered correctly"] * 9
    assert "Bea" not in str(reply)

    # Sam answered all ten in B's quiz: A's catch-up still has nine left for him, as for Tam.
    token = reply.choices[0].action
    sam_catch_up = await daily.catch_up(SAM_A, token)
    tam_catch_up = await daily.catch_up(TAM_A, token)
    assert sam_catch_up.title == tam_catch_up.title == "Daily quiz catch-up · question 2 of 10"
    assert sam_catch_up.text == tam_catch_up.text
    assert [c.label for c in sam_catch_up.choices] == [c.label for c in tam_catch_up.choices]


async def test_console_and_dm_figures_keep_every_answer(
    study: StudyServices, db: Database, clock: FakeClock
) -> None:
    """Outside a server /stats counts every answer; the console's server also those given
    before it had one (outside any server)."""
    mcqs = await bundled_mcq_ids(db)
    local = Learner("local", "lou", "Lou")
    console = replace(local, guild_id=1, guild_name="offline console")
    await answer(study, local, mcqs[0], right=True)
    clock.advance(timedelta(days=1))
    await answer(study, console, mcqs[1], right=False)
    for where in (local, console):
        summary = await study.stats.stats_summary(where)
        assert (summary.answered, summary.correct, summary.streak_days) == (2, 1, 2)
    dm = Learner("discord", "7", "Sam")
    await answer(study, SAM_A, mcqs[0], right=True)
    await answer(study, SAM_B, mcqs[1], right=True)
    assert (await study.stats.stats_summary(dm)).answered == 2
    assert (await study.stats.stats_summary(SAM_A)).answered == 1
