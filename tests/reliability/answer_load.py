"""Helper process for the crash test: answers questions as fast as it can.

``python -m tests.reliability.answer_load DATABASE_URL [STOP_AFTER]``

Prints ``ready`` once set up, then one ``ack <prompt_id> <member>`` line per answer the
services confirmed (i.e. what a member would have been told), until it is killed. With
``STOP_AFTER`` it stops by itself once that many answers were confirmed: it closes the
services (finishing the answers in flight, printing their acks too) and prints ``done``.
"""

from __future__ import annotations

import asyncio
import random
import sys

from bot.app import open_services
from bot.core.learners import Learner
from bot.errors import TutorError
from bot.settings import Settings


async def main(database_url: str, stop_after: int | None = None) -> None:
    """Answer with 50 members at once until killed (or ``stop_after`` acks)."""
    services = await open_services(Settings(database_url=database_url))
    study = services.study
    members = [Learner("discord", str(n), f"m{n}", guild_id=7) for n in range(50)]
    rng = random.Random(3)
    enough = asyncio.Event()
    acked = 0
    sys.stdout.write("ready\n")
    sys.stdout.flush()

    async def member_loop(learner: Learner) -> None:
        nonlocal acked
        while not enough.is_set():
            question = await study.practice.quiz(learner)
            choice = rng.choice([c for c in question.choices if len(c.key) == 1])
            try:
                await study.actions.act(learner, choice.action)
            except TutorError:
                continue
            prompt_id = choice.action.split(":")[1]
            sys.stdout.write(f"ack {prompt_id} {learner.external_id}\n")
            sys.stdout.flush()
            acked += 1
            if stop_after is not None and acked >= stop_after:
                enough.set()

    await asyncio.gather(*(member_loop(m) for m in members))
    await services.close()
    sys.stdout.write("done\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None))
