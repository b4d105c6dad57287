"""Helper process for the crash test: answers questions as fast as it can.

Prints ``ready`` once set up, then one ``ack <prompt_id> <member>`` line per answer the
engine confirmed (i.e. what a member would have been told), until it is killed.
"""

from __future__ import annotations

import asyncio
import random
import sys

from bot.app import open_engine
from bot.core.tutor import Learner
from bot.errors import TutorError
from bot.settings import Settings


async def main(database_url: str) -> None:
    engine = await open_engine(Settings(database_url=database_url))
    tutor = engine.tutor
    members = [Learner("discord", str(n), f"m{n}", guild_id=7) for n in range(50)]
    rng = random.Random(3)
    sys.stdout.write("ready\n")
    sys.stdout.flush()

    async def member_loop(learner: Learner) -> None:
        while True:
            question = await tutor.quiz(learner)
            choice = rng.choice([c for c in question.choices if len(c.key) == 1])
            try:
                await tutor.act(learner, choice.action)
            except TutorError:
                continue
            prompt_id = choice.action.split(":")[1]
            sys.stdout.write(f"ack {prompt_id} {learner.external_id}\n")
            sys.stdout.flush()

    await asyncio.gather(*(member_loop(m) for m in members))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
