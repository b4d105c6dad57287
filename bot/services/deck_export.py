"""Taking decks out: the service behind ``/question export`` (Discord and console).

A server's own questions leave as our YAML deck files (the default: they import again
exactly), CSV, an Anki package (``.apkg``, with pictures; importing it into Anki again
updates the notes instead of adding copies), Quizlet text or Red-DiscordBot Trivia lists.
The formats themselves are :mod:`bot.core.question_files`, :mod:`bot.core.text_exports` and
:mod:`bot.decks.anki_write`.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.core.clock import Clock
from bot.core.content import AnyItem, parse_item
from bot.core.deck_imports import EXPORT_FORMATS, export_reply
from bot.core.learners import Learner
from bot.core.permissions import SERVER_ONLY
from bot.core.privacy import export_stamp
from bot.core.question_files import MAX_EXPORT_FILES, ExportFile, export_yaml
from bot.core.replies import Reply
from bot.core.text_exports import export_csv, export_quizlet, export_red
from bot.decks.anki_write import write_apkg
from bot.errors import BadInput, NotFound, PermissionDenied
from bot.log import get_logger
from bot.storage import bank
from bot.storage.db import Database

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What ``/question export`` sends: a summary and the files."""

    reply: Reply
    files: tuple[ExportFile, ...]


class DeckExportService:
    """Export a server's own questions in the format a moderator asks for."""

    def __init__(self, db: Database, *, clock: Clock, media_dir: Path) -> None:
        self.db = db
        self.clock = clock
        self.media_dir = media_dir

    async def export(
        self, member: Learner, deck: str | None = None, file_format: str = "yaml"
    ) -> ExportResult:
        """The server's own questions (optionally one deck) as ``file_format`` files."""
        if member.guild_id is None:
            raise PermissionDenied(SERVER_ONLY)
        guild_id = member.guild_id
        chosen = file_format.strip().casefold()
        if chosen not in EXPORT_FORMATS:
            raise BadInput(f"Pick a format: {', '.join(EXPORT_FORMATS)}.")
        deck = (deck or "").strip() or None
        async with self.db.session() as session:
            rows = await bank.server_items(session, guild_id=guild_id, deck=deck)
        where = f" in {deck}" if deck else ""
        if not rows:
            raise NotFound(
                f"No questions of your own{where} to export yet. Add some with /question add "
                "or bring a deck with /question import."
            )
        by_deck: dict[str, list[AnyItem]] = {}
        for row in rows:
            by_deck.setdefault(row.deck, []).append(parse_item(row.payload))
        now = self.clock.now()
        server = member.guild_name or f"server {guild_id}"
        if chosen == "apkg":
            files, notes = await asyncio.to_thread(
                self._apkg, guild_id, by_deck, now, f"questions-{export_stamp(now)}.apkg"
            )
            return ExportResult(export_reply(chosen, by_deck, files=1, notes=notes), files)
        names = sorted(by_deck)[:MAX_EXPORT_FILES]
        skipped: list[str] = []
        files = tuple(
            self._text_file(chosen, name, by_deck[name], server, now, skipped) for name in names
        )
        more = sorted(by_deck)[MAX_EXPORT_FILES:]
        kept = {name: by_deck[name] for name in names}
        reply = export_reply(chosen, kept, files=len(files), notes=skipped, more_decks=more)
        return ExportResult(reply, files)

    def _text_file(
        self,
        chosen: str,
        deck: str,
        items: Sequence[AnyItem],
        server: str,
        now: datetime,
        skipped: list[str],
    ) -> ExportFile:
        """One deck as a text file of the chosen format."""
        if chosen == "csv":
            text, left_out = export_csv(items, deck)
            skipped.extend(f"{deck}: {line}" for line in left_out)
            return ExportFile(f"{deck}.csv", text)
        if chosen == "quizlet":
            return ExportFile(f"{deck}-quizlet.txt", export_quizlet(items) + "\n")
        if chosen == "red":
            return ExportFile(f"{deck}.yaml", export_red(items, author=server))
        comment = (
            f"Exported from {server} on {now:%Y-%m-%d}.\n"
            "Import it again with /question import: its questions are updated in place."
        )
        return ExportFile(f"{deck}.yaml", export_yaml(deck, items, comment=comment))

    def _apkg(
        self, guild_id: int, by_deck: dict[str, list[AnyItem]], now: datetime, filename: str
    ) -> tuple[tuple[ExportFile, ...], list[str]]:
        """Every deck in one Anki package (runs in a worker thread)."""
        with tempfile.TemporaryDirectory(prefix="export-") as folder:
            path = Path(folder) / filename
            summary = write_apkg(
                path,
                by_deck,
                media_dir=self.media_dir,
                title="",
                now=now,
                key_of=lambda deck, item: bank.bank_key(guild_id, deck, item.id),
            )
            blob = path.read_bytes()
        notes = [
            f"the picture {name} is missing, so it was left out" for name in summary.missing_media
        ]
        log.info("guild %s: exported %d notes as %s", guild_id, summary.notes, filename)
        return (ExportFile(filename, blob=blob),), notes
