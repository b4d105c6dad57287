"""``/forecast``: a member's reviews due per day for the next 30 days (with a chart), their
predicted recall now and the cards at risk this week, in the server they ask in."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.core.forecast import (
    FORECAST_DAYS,
    Forecast,
    RecallSummary,
    daily_counts,
    day_starts,
    due_days,
    forecast_reply,
    recall_summary,
)
from bot.core.learners import Learner
from bot.core.replies import Image, Reply
from bot.log import get_logger
from bot.services.charts import forecast_chart_png
from bot.services.study_context import StudyContext, user_id_of
from bot.storage.forecast_queries import due_before, memory_states
from bot.storage.privacy import find_user

log = get_logger(__name__)

NO_RECALL = RecallSummary(cards=0, average=None, at_risk=0)


class ForecastService:
    """Builds the ``/forecast`` reply from the member's cards in one server."""

    def __init__(self, context: StudyContext) -> None:
        self.context = context

    async def forecast(self, learner: Learner) -> Reply:
        """The member's forecast, privately, with a bar chart of the reviews due per day.

        Only the cards of items visible where ``learner`` asks count (bundled ones and that
        server's own), as in ``/review``; days are local days in the server's time zone
        (the bot's default in DMs and servers that set none). A member never seen gets the
        "nothing to forecast" reply and no row is created for them.
        """
        found = await self.build(learner)
        name = learner.display_name or "you"
        reply = forecast_reply(found, name=name)
        if found.cards == 0:
            return reply
        title = f"{name} · reviews due, next {len(found.days)} days"
        png = await asyncio.to_thread(forecast_chart_png, found.days, title=title)
        description = f"Reviews due per day for the next {len(found.days)} days (today first)"
        return replace(reply, image=Image("forecast.png", png, description))

    async def build(self, learner: Learner) -> Forecast:
        """The numbers behind :meth:`forecast`."""
        ctx = self.context
        srs = ctx.srs
        now = ctx.now()
        async with ctx.db.session() as session:
            user = await find_user(
                session, platform=learner.platform, external_id=learner.external_id
            )
            tz, _new_per_day = await ctx.study_preferences(session, learner)
            if user is None:
                return Forecast(
                    cards=0,
                    days=(),
                    recall=NO_RECALL,
                    desired_retention=srs.config.desired_retention,
                )
            user_id = user_id_of(user)
            starts = day_starts(now, tz, FORECAST_DAYS)
            cards, running = await due_before(
                session, user_id=user_id, guild_id=learner.guild_id, ends=starts[1:]
            )
            states = (
                await memory_states(session, user_id=user_id, guild_id=learner.guild_id)
                if cards
                else []
            )
        recall = await asyncio.to_thread(recall_summary, states, now=now, srs=srs)
        log.debug("forecast for user %d: %d cards, %d studied", user_id, cards, recall.cards)
        return Forecast(
            cards=cards,
            days=due_days(daily_counts(running), now, tz),
            recall=recall,
            desired_retention=srs.config.desired_retention,
        )
