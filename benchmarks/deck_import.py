"""Benchmark: the whole ``/question import`` of a big Anki package, time and memory.

Builds (in a temporary folder) the package of ``benchmarks/anki_import.py``: ``--notes``
notes of all six stock note types in 20 sub-decks, a review history on every third note and
``--images`` PNGs, laid out as current Anki exports it (``collection.anki21b``). Then, in a
child process that holds only the bot's import path, it imports the package through
:class:`bot.services.deck_import.DeckImportService` into a fresh SQLite database (the real
migrations), with ``history`` on, exactly as the Discord and console commands do: reading,
converting every card, copying the pictures, storing the questions, replaying the review
history through FSRS. It then imports the same file again (every question found by its
key and left as it is). The child reports both times and its peak RSS (``VmHWM``) and how
far that is above its RSS before the import.

Usage: ``.venv/bin/python benchmarks/deck_import.py [--notes 10000] [--images 200]``.
The last output line is JSON: ``first_s``, ``again_s``, ``questions``, ``images``,
``history_cards``, ``peak_rss_mb``, ``growth_mb``, ``package_mb``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.decks.anki_builders import synthetic_deck, write_anki21b_package  # noqa: E402

#: The whole import of 10,000 notes with 200 pictures, on this machine.
TARGET_S = 10.0


def _status_mb(key: str) -> float:
    """A ``/proc/self/status`` figure (``VmHWM``: peak RSS, ``VmRSS``: now) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def build_package(folder: Path, notes: int, images: int) -> Path:
    """The package of ``benchmarks/anki_import.py``: ``notes`` notes, ``images`` PNGs."""
    specs, media = synthetic_deck(notes, images, image_side=96)
    return write_anki21b_package(folder / f"bench-{notes}.apkg", specs, media=media)


async def _import(package: Path, folder: Path) -> dict[str, float]:
    """Import ``package`` twice through the service; the figures as a dict."""
    from bot.core.clock import SystemClock
    from bot.core.learners import Learner
    from bot.core.scheduling import SpacedRepetition
    from bot.services.deck_import import DeckImportService
    from bot.storage.db import Database

    db = Database(f"sqlite+aiosqlite:///{folder / 'bench.db'}")
    await db.connect()
    service = DeckImportService(
        db, clock=SystemClock(), srs=SpacedRepetition(), media_dir=folder / "media"
    )
    moderator = Learner("discord", "1", "Mod", guild_id=42, guild_name="Bench")
    before = _status_mb("VmRSS")
    start = time.perf_counter()
    first = await service.import_upload(moderator, package.name, package, history=True)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    again = await service.import_upload(moderator, package.name, package, history=True)
    again_s = time.perf_counter() - start
    await db.close()
    if not first.reply.title.startswith("Imported") or "already up to date" not in again.reply.text:
        raise SystemExit(f"the import did not go through: {first.reply} / {again.reply}")
    fields = {field.name: field.value for field in first.reply.fields}
    history = fields.get("Your review history", "0").split()[0]
    return {
        "first_s": round(first_s, 2),
        "again_s": round(again_s, 2),
        "questions": int(first.reply.title.split()[1].replace(",", "")),
        "images": int(fields.get("Pictures", "0").split()[0]),
        "history_cards": int(history.replace(",", "")),
        "peak_rss_mb": round(_status_mb("VmHWM"), 1),
        "growth_mb": round(_status_mb("VmHWM") - before, 1),
    }


def child(package: Path, folder: Path) -> None:
    """The measured process: import, then print the figures as JSON."""
    print(json.dumps(asyncio.run(_import(package, folder))))


def main(argv: Sequence[str] | None = None) -> int:
    """Build the package, import it in a child process, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return 0
    with tempfile.TemporaryDirectory(prefix="deck-import-bench-") as work:
        folder = Path(work)
        package = build_package(folder, args.notes, args.images)
        size_mb = package.stat().st_size / 1_000_000
        result = subprocess.run(
            [sys.executable, __file__, "--child", str(package), str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
        figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["package_mb"] = round(size_mb, 1)
    verdict = "meets" if figures["first_s"] <= TARGET_S else "MISSES"
    print(f"Import of {args.notes:,} notes with {args.images} pictures ({size_mb:.1f} MB package)")
    print()
    print("| step | value |")
    print("| --- | ---: |")
    print(f"| first import (read, convert, pictures, store, history) | {figures['first_s']} s |")
    print(f"| the same file again (all found by key, unchanged) | {figures['again_s']} s |")
    print(f"| questions | {figures['questions']:,} |")
    print(f"| pictures kept | {figures['images']} |")
    print(f"| cards scheduled from the review history | {figures['history_cards']:,} |")
    print(f"| peak RSS of the importing process | {figures['peak_rss_mb']} MB |")
    print(f"| peak RSS above its RSS before importing | {figures['growth_mb']} MB |")
    print()
    print(f"Target: first import ≤ {TARGET_S:.0f} s — {verdict}.")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
