"""The fake Discord misbehaving: failed, late and lost REST calls, gateway drops, double clicks.

The real, unmodified discord.py client runs :class:`~bot.exts.client.TutorBot` against
:class:`~tests.fakediscord.FakeDiscord`. Whatever the fake does wrong, the bot must not
crash, every answer a member gave must be in the ``attempts`` table exactly once, and the
next command must still work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

from bot.app import open_services
from bot.core.learners import Learner
from bot.core.replies import Reply
from bot.exts.client import TutorBot
from bot.services.container import Services
from bot.settings import Settings
from tests.exts import conftest as exts_fixtures
from tests.exts.conftest import ACK_BUDGET_S, ACK_DEADLINE_S
from tests.exts.test_discord_e2e import (
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    UPDATE_MESSAGE,
    stored,
)
from tests.fakediscord import FakeDiscord, InteractionHandle, MessageRecord, running_client
from tests.fakediscord.fixtures import ALICE_ID, BOB_ID, GUILD_ID
from tests.fakediscord.reading import button, embed

pytestmark = pytest.mark.slow

# ``bot_settings`` and ``tutor_bot`` live in tests/exts/conftest.py, which this folder does
# not see: pytest registers fixtures by module attribute name, so bind them here.
bot_settings = exts_fixtures.bot_settings
tutor_bot = exts_fixtures.tutor_bot

#: Discord's real acknowledgement deadline (the fixtures scale it down to 1 s).
DISCORD_DEADLINE_S = 3.0
CALLBACK = "/interactions/*/callback"
FEEDBACK_TITLES = ("Correct", "Not quite")
#: Extra members for the load-ish tests (Alice and Bob come with the fake's guild).
EXTRA_MEMBERS = [555_000_000_000_000_000 + n for n in range(6)]


def prompt_of(question: MessageRecord) -> int:
    """The prompt id behind a question's answer buttons (``t:an:<prompt>:<option>``)."""
    answer = next(cid for cid in question.custom_ids if cid.startswith("t:an:"))
    return int(answer.split(":")[2])


def answers_per_member(settings: Settings, prompt_id: int) -> dict[str, int]:
    """``{member's Discord id: attempts stored}`` for one prompt."""
    rows = stored(
        settings,
        "SELECT users.external_id, count(*) FROM attempts "
        f"JOIN users ON users.id = attempts.user_id WHERE attempts.prompt_id = {prompt_id} "
        "GROUP BY users.external_id",
    )
    return {str(member): int(count) for member, count in rows}


def is_feedback(message: MessageRecord) -> bool:
    """A private answer verdict (✅ Correct / ❌ Not quite)."""
    return (
        message.ephemeral
        and bool(message.embeds)
        and any(title in embed(message).get("title", "") for title in FEEDBACK_TITLES)
    )


async def post_quiz(fake: FakeDiscord, user_id: int = ALICE_ID) -> MessageRecord:
    """A channel quiz question every member may answer once."""
    handle = await fake.send_slash_command("quiz", user_id=user_id, options={"difficulty": "easy"})
    question = await fake.wait_for_message(handle, timeout=5)
    assert not question.ephemeral and prompt_of(question)
    return question


async def still_works(fake: FakeDiscord, user_id: int = BOB_ID) -> None:
    """The bot answers the next command, in time."""
    handle = await fake.send_slash_command("quiz", user_id=user_id)
    reply = await fake.wait_for_message(handle, timeout=5)
    assert "Question" in embed(reply)["title"]
    assert all(c.ok for c in fake.callbacks_for(handle))


def add_members(fake: FakeDiscord) -> list[int]:
    """Every member id in the test guild after adding the extra members."""
    for member_id in EXTRA_MEMBERS:
        fake.add_member(GUILD_ID, member_id, f"member{member_id % 100}")
    return [ALICE_ID, BOB_ID, *EXTRA_MEMBERS]


def slow_act(bot: TutorBot, delay_s: float) -> Callable[..., Awaitable[Reply]]:
    """``bot.study.actions.act`` that takes ``delay_s`` longer (forces deliver() to defer)."""
    original = bot.study.actions.act

    async def act(learner: Learner, token: str, text: str | None = None) -> Reply:
        await asyncio.sleep(delay_s)
        return await original(learner, token, text)

    return act


# --------------------------------------------------------------------------- REST faults


async def test_a_500_on_the_ack_is_retried_and_the_answer_stored_once(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    fake_discord.ack_deadline_s = DISCORD_DEADLINE_S  # discord.py retries a 500 after 1 s
    question = await post_quiz(fake_discord)
    fault = fake_discord.fail_route("POST", CALLBACK, status=500, times=1)
    handle = await fake_discord.click_button(question, button(question, "A"), user_id=BOB_ID)
    feedback = await fake_discord.wait_for_message(handle, timeout=6)
    assert fault.hits == 1
    assert is_feedback(feedback)
    assert [(c.type, c.status) for c in fake_discord.callbacks_for(handle)] == [
        (CHANNEL_MESSAGE, 200)
    ]
    assert answers_per_member(bot_settings, prompt_of(question)) == {str(BOB_ID): 1}
    await still_works(fake_discord)


async def test_a_500_whose_retry_is_too_late_is_logged_not_crashed(
    fake_discord: FakeDiscord,
    tutor_bot: TutorBot,
    bot_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # With the scaled 1 s deadline the retry (after 1 s) lands late: Discord says 10062.
    question = await post_quiz(fake_discord)
    fake_discord.fail_route("POST", CALLBACK, status=500, times=1)
    handle = await fake_discord.click_button(question, button(question, "A"), user_id=BOB_ID)
    await fake_discord.wait_for(
        lambda: len(fake_discord.callbacks_for(handle)) >= 2, timeout=8, what="error reply try"
    )
    callbacks = fake_discord.callbacks_for(handle)
    assert all(c.error_code == 10062 for c in callbacks), callbacks
    await fake_discord.wait_for(
        lambda: any("could not deliver" in r.getMessage() for r in caplog.records),
        timeout=3,
        what="the log line",
    )
    assert answers_per_member(bot_settings, prompt_of(question)) == {str(BOB_ID): 1}
    await still_works(fake_discord)


async def test_an_ack_that_lands_after_the_deadline(
    fake_discord: FakeDiscord,
    tutor_bot: TutorBot,
    bot_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    question = await post_quiz(fake_discord)
    fake_discord.slow_route("POST", CALLBACK, ACK_DEADLINE_S * 1.3, times=1)
    handle = await fake_discord.click_button(question, button(question, "B"), user_id=BOB_ID)
    await fake_discord.wait_for(
        lambda: any("could not deliver" in r.getMessage() for r in caplog.records),
        timeout=5,
        what="the bot to give up on the expired interaction",
    )
    callbacks = fake_discord.callbacks_for(handle)
    assert callbacks and all((c.status, c.error_code) == (404, 10062) for c in callbacks)
    assert not fake_discord.messages_for(handle)  # nothing reached the member
    # The engine recorded the answer before the (late) reply: it is there, once.
    assert answers_per_member(bot_settings, prompt_of(question)) == {str(BOB_ID): 1}
    # Bob clicks again: he is told he already answered, and nothing is stored twice.
    again = await fake_discord.click_button(question, button(question, "C"), user_id=BOB_ID)
    reply = await fake_discord.wait_for_message(again, timeout=5)
    assert reply.ephemeral and "already answered" in reply.content
    assert answers_per_member(bot_settings, prompt_of(question)) == {str(BOB_ID): 1}
    await still_works(fake_discord)


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, 0), (404, 10015)],
    ids=["server-error-retried", "unknown-webhook"],
)
async def test_a_failed_followup_after_a_defer(
    fake_discord: FakeDiscord,
    tutor_bot: TutorBot,
    bot_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    code: int,
) -> None:
    question = await post_quiz(fake_discord)
    monkeypatch.setattr(tutor_bot.study.actions, "act", slow_act(tutor_bot, ACK_BUDGET_S * 2))
    fault = fake_discord.fail_route("POST", "/webhooks/*", status=status, code=code, times=1)
    handle = await fake_discord.click_button(question, button(question, "A"), user_id=BOB_ID)
    reply = await fake_discord.wait_for_message(handle, timeout=6)
    assert fault.hits == 1
    assert [c.type for c in fake_discord.callbacks_for(handle)] == [DEFERRED_CHANNEL_MESSAGE]
    assert all(c.ok for c in fake_discord.callbacks_for(handle))
    if status == 500:  # discord.py retried the followup: the member got the verdict
        assert is_feedback(reply)
    else:  # the answer is saved; a second followup says so, privately
        assert reply.ephemeral and "Your progress is saved" in reply.content
    assert answers_per_member(bot_settings, prompt_of(question)) == {str(BOB_ID): 1}
    monkeypatch.undo()
    await still_works(fake_discord)


# --------------------------------------------------------------------------- gateway


async def _answers_arrive(
    fake: FakeDiscord, handles: list[InteractionHandle], wait_s: float = 10
) -> list[MessageRecord]:
    """The first visible reply to each interaction, in order."""
    return [await fake.wait_for_message(handle, timeout=wait_s) for handle in handles]


async def test_gateway_resume_while_members_answer(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    members = add_members(fake_discord)
    question = await post_quiz(fake_discord)
    letters = ["A", "B", "C", "D"]

    async def click(member: int) -> InteractionHandle:
        label = letters[members.index(member) % len(letters)]
        return await fake_discord.click_button(question, button(question, label), user_id=member)

    before, during, after = members[:3], members[3:6], members[6:]
    handles = [await click(m) for m in before]  # in flight while the socket drops
    session = fake_discord.gateway.active_session()
    resuming = asyncio.create_task(fake_discord.disconnect_gateway(resume=True))
    await asyncio.sleep(0)  # the socket is now down
    assert not session.connected
    handles += [await click(m) for m in during]  # buffered, replayed on RESUME
    await resuming
    handles += [await click(m) for m in after]

    replies = await _answers_arrive(fake_discord, handles)
    assert all(is_feedback(reply) for reply in replies), [r.content for r in replies]
    for handle in handles:
        callbacks = fake_discord.callbacks_for(handle)
        assert [(c.type, c.status) for c in callbacks] == [(CHANNEL_MESSAGE, 200)], callbacks
        assert max(c.elapsed_s for c in callbacks) < ACK_DEADLINE_S
    assert answers_per_member(bot_settings, prompt_of(question)) == {str(m): 1 for m in members}
    await still_works(fake_discord)


class QuickReidentifyBot(TutorBot):
    """TutorBot without discord.py's 5 s pause before a non-initial IDENTIFY."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Identify again at once (the real bot keeps discord.py's pause)."""


@pytest_asyncio.fixture
async def quick_bot(
    fake_discord: FakeDiscord, bot_settings: Settings
) -> AsyncIterator[QuickReidentifyBot]:
    """A connected :class:`QuickReidentifyBot` (commands synced) talking to the fake."""
    fake_discord.ack_deadline_s = ACK_DEADLINE_S

    async def opener() -> Services:
        return await open_services(bot_settings)

    bot = QuickReidentifyBot(bot_settings, open_services=opener)
    async with running_client(bot, fake_discord):
        await fake_discord.wait_for_commands("quiz", "help")
        yield bot


async def test_gateway_session_lost_while_members_answer(
    fake_discord: FakeDiscord, quick_bot: QuickReidentifyBot, bot_settings: Settings
) -> None:
    members = add_members(fake_discord)
    question = await post_quiz(fake_discord)
    label = button(question, "D")
    half = len(members) // 2
    handles = [await fake_discord.click_button(question, label, user_id=m) for m in members[:half]]
    await fake_discord.disconnect_gateway(resume=False)  # INVALID_SESSION: a fresh IDENTIFY
    handles += [await fake_discord.click_button(question, label, user_id=m) for m in members[half:]]
    replies = await _answers_arrive(fake_discord, handles)
    assert all(is_feedback(reply) for reply in replies)
    assert all(c.ok for h in handles for c in fake_discord.callbacks_for(h))
    assert answers_per_member(bot_settings, prompt_of(question)) == {str(m): 1 for m in members}
    await still_works(fake_discord)


# --------------------------------------------------------------------------- double clicks


async def test_a_double_click_on_a_channel_question(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    question = await post_quiz(fake_discord)
    first, second = await asyncio.gather(
        fake_discord.click_button(question, button(question, "A"), user_id=BOB_ID),
        fake_discord.click_button(question, button(question, "B"), user_id=BOB_ID),
    )
    replies = await _answers_arrive(fake_discord, [first, second], wait_s=5)
    verdicts = [r for r in replies if is_feedback(r)]
    refusals = [r for r in replies if r.ephemeral and "already answered" in r.content]
    assert (len(verdicts), len(refusals)) == (1, 1), [r.payload for r in replies]
    assert answers_per_member(bot_settings, prompt_of(question)) == {str(BOB_ID): 1}
    assert all(c.ok for h in (first, second) for c in fake_discord.callbacks_for(h))


async def test_a_double_click_on_a_private_question(
    fake_discord: FakeDiscord, tutor_bot: TutorBot, bot_settings: Settings
) -> None:
    handle = await fake_discord.send_slash_command(
        "practice", user_id=ALICE_ID, options={"difficulty": "easy"}
    )
    problem = await fake_discord.wait_for_message(handle, timeout=5)
    assert problem.ephemeral
    first, second = await asyncio.gather(
        fake_discord.click_button(problem, button(problem, "A"), user_id=ALICE_ID),
        fake_discord.click_button(problem, button(problem, "A"), user_id=ALICE_ID),
    )
    await _answers_arrive(fake_discord, [first, second], wait_s=5)
    types = sorted(c.type for h in (first, second) for c in fake_discord.callbacks_for(h))
    # One click edits the problem into the solution; the other is told it was answered.
    assert types == sorted([UPDATE_MESSAGE, CHANNEL_MESSAGE])
    refusal = next(
        m
        for h in (first, second)
        for m in fake_discord.messages_for(h)
        if m.kind == "interaction_response" and m.action == "create"
    )
    assert refusal.ephemeral and "already answered" in refusal.content
    assert answers_per_member(bot_settings, prompt_of(problem)) == {str(ALICE_ID): 1}
