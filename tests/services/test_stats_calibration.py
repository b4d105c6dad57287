"""``/stats`` calibration over a temporary database: predicted against actual recall."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.core.calibration import TOO_FEW, ReviewEvent, predictions
from bot.core.clock import FakeClock
from bot.core.content import ChoiceItem
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.services.study import StudyServices
from bot.storage.calibration_queries import calibration_events
from bot.storage.db import Database
from bot.storage.models import Item

SERVER_A = 6_000_001
SERVER_B = 6_000_002


def on(server: int, external_id: str, name: str) -> Learner:
    return Learner("discord", external_id, name, guild_id=server, guild_name=f"Server {server}")


async def mcq_ids(db: Database, count: int) -> list[int]:
    async with db.session() as session:
        statement = select(Item.id).where(col(Item.guild_id).is_(None), Item.kind == "mcq")
        found = [i for i in (await session.exec(statement.order_by(col(Item.id)))).all() if i]
    assert len(found) >= count
    return found[:count]


async def answer(
    study: StudyServices, learner: Learner, item_id: int, *, right: bool, mode: str = "quiz"
) -> None:
    """Show ``item_id`` to ``learner`` and answer it right or wrong."""
    shown = await study.practice.present_item(learner, item_id, mode)
    async with study.context.db.session() as session:
        item = await study.context.load_item(session, item_id)
    assert isinstance(item.content, ChoiceItem)
    correct = item.content.correct_index
    option = correct if right else (correct + 1) % len(item.content.options)
    await study.actions.act(learner, shown.choices[option].action)


def calibration_field(reply: Reply) -> str:
    fields = {field.name: field.value for field in reply.fields}
    return fields["Calibration"]


async def test_a_new_member_sees_when_calibration_appears(
    study: StudyServices, alice: Learner
) -> None:
    reply = await study.stats.stats(alice)
    assert calibration_field(reply) == TOO_FEW
    assert [f.name for f in reply.fields][-1] == "Calibration"


async def test_reviews_days_apart_in_every_mode_are_calibrated(
    study: StudyServices, db: Database, clock: FakeClock
) -> None:
    sam = on(SERVER_A, "7", "Sam")
    items = await mcq_ids(db, 5)
    modes = ["quiz", "practice", "quiz", "practice", "quiz", "quiz"]
    for day, mode in enumerate(modes):
        for number, item_id in enumerate(items):
            await answer(study, sam, item_id, right=(day + number) % 4 != 0, mode=mode)
        # A same-day retry: replayed, but FSRS predicts 100% then, so it is not counted.
        await answer(study, sam, items[0], right=True)
        clock.advance(timedelta(days=2))
    result = await study.stats.calibration(sam)
    assert result.reviews == 5 * 5  # the first day only introduces each card
    remembered = sum((day + n) % 4 != 0 for day in range(1, 6) for n in range(5))
    assert round(100 * result.actual) == round(100 * remembered / 25)
    assert 0.3 < result.predicted < 1
    text = calibration_field(await study.stats.stats(sam))
    assert text.splitlines()[-1].startswith(
        f"Overall: predicted {round(100 * result.predicted)}% · "
        f"remembered {round(100 * result.actual)}% — FSRS is"
    )
    assert " reviews" in text.splitlines()[0]


async def test_only_this_servers_answers_count_but_the_card_keeps_them_all(
    study: StudyServices, db: Database, clock: FakeClock
) -> None:
    sam_a, sam_b = on(SERVER_A, "7", "Sam"), on(SERVER_B, "7", "Sam")
    [shared, only_b] = await mcq_ids(db, 2)
    await answer(study, sam_a, shared, right=True)
    clock.advance(timedelta(days=3))
    await answer(study, sam_b, shared, right=False)  # a lapse in B
    await answer(study, sam_b, only_b, right=True)
    clock.advance(timedelta(days=3))
    await answer(study, sam_b, only_b, right=True)
    await answer(study, sam_a, shared, right=True)
    in_a = await study.stats.calibration(sam_a)
    in_b = await study.stats.calibration(sam_b)
    assert (in_a.reviews, in_b.reviews) == (1, 2)
    async with db.session() as session:
        user = await study.context.member(session, sam_a)
        assert user.id is not None
        events = await calibration_events(session, user_id=user.id, guild_id=SERVER_A)
    assert [(e.item_id, e.counted) for e in events] == [
        (shared, True),
        (shared, False),
        (shared, True),
    ]
    # The prediction in A is the card's, lapse in B included.
    [lapsed] = predictions(events, config=study.context.srs.config)
    [unlapsed] = predictions([events[0], events[2]], config=study.context.srs.config)
    assert lapsed.predicted < unlapsed.predicted
    assert in_a.predicted == lapsed.predicted
    # Another member looking at Sam in A sees A's figures only.
    ann = on(SERVER_A, "9", "Ann")
    assert (await study.stats.calibration(ann, member=sam_b)).reviews == 1


async def test_only_the_latest_answers_are_counted_and_reads_are_capped(
    study: StudyServices, db: Database, clock: FakeClock, alice: Learner
) -> None:
    items = await mcq_ids(db, 3)
    for _ in range(4):
        for item_id in items:
            await answer(study, alice, item_id, right=True)
            clock.advance(timedelta(minutes=1))
        clock.advance(timedelta(days=2))
    async with db.session() as session:
        user = await study.context.member(session, alice)
        assert user.id is not None
        every = await calibration_events(session, user_id=user.id)
        latest = await calibration_events(session, user_id=user.id, max_counted=4)
        capped = await calibration_events(session, user_id=user.id, max_read=6)
    assert len(every) == 12 and all(e.counted for e in every)
    # The 4 latest answers: the last round and the third item's answer before it.
    assert sum(e.counted for e in latest) == 4 and len(latest) == 12
    assert [e.counted for e in latest if e.item_id == items[2]] == [False, False, True, True]
    # A capped read keeps whole histories from their start, in item then time order.
    assert [e.item_id for e in capped] == [items[0]] * 4 + [items[1]] * 2
    assert capped == sorted(capped, key=lambda e: (e.item_id, e.at))
    assert all(isinstance(e, ReviewEvent) for e in capped)
