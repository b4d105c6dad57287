"""Desired retention: typed values, the workload preview and its buttons, the member's value
over the server's over the bot's, what an answer's interval gets from it, and servers kept
apart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest
import pytest_asyncio
from sqlmodel import select

from bot.core.clock import FakeClock
from bot.core.deck_files import DeckLibrary
from bot.core.learners import Learner
from bot.errors import BadInput, ExpiredAction
from bot.services.member_settings import (
    MemberSettingsService,
    RetentionChoice,
    WorkloadEstimates,
    parse_retention,
    saves_server_setting,
    workload_sentence,
)
from bot.services.server_settings import ServerSettingsService
from bot.services.study import StudyServices
from bot.services.study_context import (
    FROM_DEFAULT,
    FROM_MEMBER,
    FROM_SERVER,
    EffectiveRetention,
    RetentionCache,
)
from bot.storage.db import Database
from bot.storage.models import AuditEntry, ReviewState, User
from tests.study_helpers import build_study, choice_action

ADMIN = Learner("discord", "1", "Admin", guild_id=500, guild_name="Hall")
MEMBER = Learner("discord", "2", "Member", guild_id=500, guild_name="Hall")
MEMBER_ELSEWHERE = Learner("discord", "2", "Member", guild_id=600, guild_name="Other")
NEIGHBOUR = Learner("discord", "3", "Neighbour", guild_id=600, guild_name="Other")


def fake_reviews(retention: float) -> float:
    """A stand-in for the simulation: more reviews at higher retention."""
    return round(retention * 100) - 60.0


@pytest_asyncio.fixture
async def tutor(
    db: Database, clock: FakeClock, library: DeckLibrary
) -> AsyncIterator[tuple[StudyServices, MemberSettingsService]]:
    study = build_study(db, clock)
    await study.decks.sync_content(library)
    server = ServerSettingsService(db, clock=clock, retentions=study.context.retentions)
    yield (
        study,
        MemberSettingsService(
            study.context, server_settings=server, workloads=WorkloadEstimates(fake_reviews)
        ),
    )
    await study.close()


async def first_card_due(study: StudyServices, learner: Learner, db: Database) -> datetime:
    """Review the first new card, rate it Easy, and return when it comes back."""
    card = await study.review.review(learner)
    revealed = await study.actions.act(learner, choice_action(card, "reveal"))
    await study.actions.act(learner, choice_action(revealed, "easy"))
    async with db.session() as session:
        user = (
            await session.exec(select(User).where(User.external_id == learner.external_id))
        ).one()
        state = (
            await session.exec(select(ReviewState).where(ReviewState.user_id == user.id))
        ).one()
        return state.due


@pytest.mark.parametrize("typed", ["85", "85%", "0.85", " 85 % ", "85.2"])
def test_typed_retentions_are_read_as_whole_percentages(typed: str) -> None:
    assert parse_retention(typed) == 0.85


@pytest.mark.parametrize("typed", ["69", "0.98", "100", "1", "abc", "nan", "", "-80"])
def test_retentions_outside_70_to_97_are_refused_with_a_hint(typed: str) -> None:
    with pytest.raises(BadInput, match="between 70% and 97%"):
        parse_retention(typed)


def test_tokens_carry_the_value_and_stay_short() -> None:
    save = RetentionChoice("server", 0.85)
    assert save.token() == "dr:sv:85" and RetentionChoice.parse(save.token()) == save
    assert saves_server_setting(save.token())
    assert RetentionChoice.parse("dr:me:70") == RetentionChoice("me", 0.7)
    assert RetentionChoice.parse("dr:no").retention is None
    assert not saves_server_setting("dr:me:85") and not saves_server_setting("dr:no")
    for bad in ("dr:me:99", "dr:me:5", "dr:xx:85", "dr:me:85:1"):
        with pytest.raises(ExpiredAction):
            RetentionChoice.parse(bad)


async def test_a_lower_retention_gives_a_longer_interval_for_the_same_card(
    tutor: tuple[StudyServices, MemberSettingsService], db: Database
) -> None:
    study, settings = tutor
    low = Learner("local", "low", "Low")
    high = Learner("local", "high", "High")
    await settings.save(low, "me", parse_retention("0.80"))
    await settings.save(high, "me", 0.95)
    low_due = await first_card_due(study, low, db)
    high_due = await first_card_due(study, high, db)
    assert low_due > high_due
    assert study.context.srs_for(0.8) is study.context.srs_for(0.80)
    assert study.context.srs_for(0.9) is study.context.srs


async def test_the_server_value_applies_to_members_without_their_own_and_servers_stay_apart(
    tutor: tuple[StudyServices, MemberSettingsService], db: Database
) -> None:
    study, settings = tutor
    ctx = study.context
    assert await ctx.retention_for(MEMBER) == EffectiveRetention(0.9, FROM_DEFAULT)
    saved = await settings.act(ADMIN, "dr:sv:80")
    assert "80%" in saved.title
    # Cached before the change, refreshed at once in this process.
    assert await ctx.retention_for(MEMBER) == EffectiveRetention(0.8, FROM_SERVER)
    assert await ctx.retention_for(MEMBER_ELSEWHERE) == EffectiveRetention(0.9, FROM_DEFAULT)
    in_hall = await first_card_due(study, MEMBER, db)
    elsewhere = await first_card_due(study, NEIGHBOUR, db)
    assert in_hall > elsewhere

    await settings.save(MEMBER, "me", 0.95)
    assert await ctx.retention_for(MEMBER) == EffectiveRetention(0.95, FROM_MEMBER)
    assert await ctx.retention_for(MEMBER_ELSEWHERE) == EffectiveRetention(0.95, FROM_MEMBER)
    assert await ctx.retention_for(NEIGHBOUR) == EffectiveRetention(0.9, FROM_DEFAULT)
    shown = await settings.retention(MEMBER, None, scope="me")
    assert "95% (your own choice)" in shown.text

    reset = await settings.retention(MEMBER, "reset", scope="me")
    assert "this server's setting" in reset.text and "80%" in reset.text
    assert (await settings.retention(MEMBER_ELSEWHERE, None, scope="me")).text.endswith(
        "90% (the bot's default)."
    )
    server = await settings.retention(ADMIN, "", scope="server")
    assert "80% (set here)" in server.text
    async with db.session() as session:
        audited = (await session.exec(select(AuditEntry.action))).all()
    assert "settings.retention" in audited
    listing = (await settings.server_settings.show_settings(ADMIN)).reply
    assert any(f.name == "Desired retention" and f.value == "80%" for f in listing.fields)


async def test_the_preview_shows_the_workload_and_saves_only_on_the_button(
    tutor: tuple[StudyServices, MemberSettingsService],
) -> None:
    study, settings = tutor
    preview = await settings.retention(MEMBER, "85%", scope="me")
    assert "At 85% you'd do about 25 reviews a day for 500 cards, vs 30 at 90%." in preview.text
    assert "Now your retention is 90% (the bot's default)." in preview.text
    assert [(c.label, c.action) for c in preview.choices] == [
        ("Save 85%", "dr:me:85"),
        ("Cancel", "dr:no"),
    ]
    assert all(len(f"t:{c.action}") <= 100 for c in preview.choices)
    assert (await study.context.retention_for(MEMBER)).source == FROM_DEFAULT
    cancelled = await settings.act(MEMBER, "dr:no")
    assert cancelled.title == "Nothing changed"
    assert (await study.context.retention_for(MEMBER)).source == FROM_DEFAULT
    await settings.act(MEMBER, "dr:me:85")
    assert await study.context.retention_for(MEMBER) == EffectiveRetention(0.85, FROM_MEMBER)
    usual = await settings.preview(MEMBER, 0.9, scope="server", buttons=False)
    assert "(the usual workload)" in usual.text and not usual.choices
    with pytest.raises(BadInput, match="out of range"):
        await settings.retention(MEMBER, "99", scope="me")
    with pytest.raises(BadInput, match="value for the server"):
        await settings.retention(ADMIN, "reset", scope="server")
    with pytest.raises(BadInput, match="server"):
        await settings.retention(Learner("local", "dm", "Dm"), "85", scope="server")


async def test_the_real_simulation_runs_once_per_value() -> None:
    calls: list[float] = []

    def counted(retention: float) -> float:
        calls.append(retention)
        return WorkloadEstimates._reviews_per_day(retention)

    estimates = WorkloadEstimates(counted)
    first = await estimates.workload(0.85)
    again = await estimates.workload(0.85)
    assert first == again and sorted(calls) == [0.85, 0.9]
    assert 0 < first.reviews_per_day < first.baseline_reviews_per_day
    text = workload_sentence(first)
    assert text.startswith("At 85% you'd do about ") and text.endswith(" at 90%.")


def test_the_cache_forgets_after_its_time_limit_and_on_changes() -> None:
    now = [0.0]
    cache = RetentionCache(ttl_s=60, size=2, monotonic=lambda: now[0])
    cache.put(MEMBER, EffectiveRetention(0.8, FROM_SERVER))
    cache.put(MEMBER_ELSEWHERE, EffectiveRetention(0.9, FROM_DEFAULT))
    assert cache.get(MEMBER) == EffectiveRetention(0.8, FROM_SERVER)
    now[0] = 59.0
    assert cache.get(MEMBER) is not None
    now[0] = 60.0
    assert cache.get(MEMBER) is None
    cache.put(MEMBER, EffectiveRetention(0.8, FROM_SERVER))
    cache.put(MEMBER_ELSEWHERE, EffectiveRetention(0.9, FROM_DEFAULT))
    cache.forget_server(500)
    assert cache.get(MEMBER) is None and cache.get(MEMBER_ELSEWHERE) is not None
    cache.forget_member(MEMBER)
    assert cache.get(MEMBER_ELSEWHERE) is None
    # A value read before a change is not kept after it.
    before = cache.generation
    cache.forget_server(600)
    cache.put(NEIGHBOUR, EffectiveRetention(0.9, FROM_DEFAULT), generation=before)
    assert cache.get(NEIGHBOUR) is None
    for learner in (ADMIN, MEMBER, NEIGHBOUR):
        cache.put(learner, EffectiveRetention(0.9, FROM_DEFAULT))
    assert cache.get(ADMIN) is None and cache.get(NEIGHBOUR) is not None
