"""``/export-me`` and ``/forget-me`` in the offline console.

The export is written as a JSON file into the console's export folder (the console has no
attachments); forgetting asks for ``/forget-me confirm`` instead of a button.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.core.learners import Learner
from bot.core.privacy import NOTHING_STORED, forget_confirmation
from bot.core.replies import Reply, Tone
from bot.errors import BadInput
from bot.services.privacy import PrivacyService

#: A console command that always answers with a reply (a :data:`bot.console.app.ConsoleCommand`).
ReplyCommand = Callable[[Learner, list[str]], Awaitable[Reply]]


def export_path(export_dir: Path, learner: Learner, filename: str) -> Path:
    """Where a member's export goes: their (file-name-safe) id, then the export's name."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", learner.external_id)[:40] or "member"
    return export_dir / f"{safe}-{filename}"


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def privacy_commands(member_data: PrivacyService, *, export_dir: Path) -> dict[str, ReplyCommand]:
    """``/export-me`` (writes a JSON file into ``export_dir``) and ``/forget-me [confirm]``."""

    async def export_me(learner: Learner, words: list[str]) -> Reply:
        export = await member_data.export(learner)
        if export is None:
            return Reply(text=NOTHING_STORED, tone=Tone.INFO, private=True)
        path = export_path(export_dir, learner, export.filename)
        await asyncio.to_thread(_write_file, path, export.data)
        saved = f"Saved to {path}"
        if export.deck_data is not None and export.deck_filename is not None:
            deck_path = export_path(export_dir, learner, export.deck_filename)
            await asyncio.to_thread(_write_file, deck_path, export.deck_data)
            saved += f"\nYour cards for Anki: {deck_path}"
        summary = export.summary()
        return Reply(
            title=summary.title,
            text=f"{summary.text}\n{saved}",
            tone=summary.tone,
            footer="To delete it all, type /forget-me.",
            private=True,
        )

    async def forget_me(learner: Learner, words: list[str]) -> Reply:
        if not words:
            asking = forget_confirmation(learner, buttons=False)
            return Reply(
                title=asking.title,
                text=f"{asking.text}\nType /forget-me confirm to go ahead.",
                tone=asking.tone,
                private=True,
            )
        if [w.casefold() for w in words] != ["confirm"]:
            raise BadInput(
                "Type /forget-me confirm to delete your data — or just carry on to keep it."
            )
        return await member_data.forget(learner)

    return {"/export-me": export_me, "/forget-me": forget_me}
