"""Benchmark: reading an Anki package and extracting its images, time and memory.

It builds, in a temporary folder, a package laid out as current Anki exports it
(``collection.anki21b``, zstd, schema 18; see ``tests/decks/anki_builders.py``) with
``--notes`` notes of all six stock note types in 20 sub-decks, a review history on every
third note, and ``--images`` PNGs of random pixels referenced from the notes. Then it times
:func:`bot.decks.anki_read.read_anki_package` and :meth:`AnkiPackage.extract_media` of
every image the notes show (best of ``--runs``), and measures memory twice:

* ``tracemalloc`` peak of the Python allocations during read + extract (a separate run, as
  tracing slows the code down);
* a child process that does nothing but import the reader, read and extract: its peak RSS
  (``VmHWM``) and how far that peak is above its RSS just before reading.

Memory should not grow with the size of the media: the archive is streamed, never loaded.
:func:`build_package` is the reusable part (the whole import through the service will be
timed on the same package).

Usage: ``.venv/bin/python benchmarks/anki_import.py [--notes 10000] [--images 200]
[--image-side 96] [--runs 3]``. The last output line is JSON: ``read_s``, ``extract_s``,
``total_s``, ``tracemalloc_peak_mb``, ``child_maxrss_mb``, ``child_growth_mb``,
``package_mb``, ``notes``, ``cards``, ``reviews``, ``images``.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.anki_model import AnkiCollection  # noqa: E402
from bot.decks.anki_read import read_anki_package  # noqa: E402
from tests.decks.anki_builders import synthetic_deck, write_anki21b_package  # noqa: E402

#: read + extract of 10,000 notes and 200 images, on this machine.
TARGET_TOTAL_S = 10.0
_IMAGE = re.compile(r"""<img[^>]*\ssrc=["']([^"']+)["']""", re.IGNORECASE)


def build_package(folder: Path, notes: int, images: int, image_side: int = 96) -> Path:
    """Write the benchmark package (anki21b layout) into ``folder``; returns its path."""
    specs, media = synthetic_deck(notes, images, image_side=image_side)
    return write_anki21b_package(folder / f"bench-{notes}.apkg", specs, media=media)


def image_names(collection: AnkiCollection) -> list[str]:
    """The media names the notes show in ``<img src=…>``, first use first."""
    names: dict[str, None] = {}
    for note in collection.notes:
        for value in note.fields:
            names.update(dict.fromkeys(_IMAGE.findall(value)))
    return list(names)


@dataclass(frozen=True, slots=True)
class Run:
    """One read + extract."""

    read_s: float
    extract_s: float
    notes: int
    cards: int
    reviews: int
    images: int

    @property
    def total_s(self) -> float:
        """Both steps."""
        return self.read_s + self.extract_s


def read_and_extract(package_path: Path, dest: Path) -> Run:
    """Read the package and extract the images its notes show into ``dest``."""
    started = time.perf_counter()
    with read_anki_package(package_path) as package:
        read_s = time.perf_counter() - started
        collection = package.collection
        names = image_names(collection)
        started = time.perf_counter()
        stored = package.extract_media(names, dest)
        extract_s = time.perf_counter() - started
    cards = [card for note in collection.notes for card in note.cards]
    return Run(
        read_s=read_s,
        extract_s=extract_s,
        notes=len(collection.notes),
        cards=len(cards),
        reviews=sum(len(card.reviews) for card in cards),
        images=len(stored),
    )


def _status_mb(key: str) -> float | None:
    """A ``/proc/self/status`` figure (``VmRSS``, ``VmHWM``) in MB, or None without /proc."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    line = next((line for line in text.splitlines() if line.startswith(f"{key}:")), None)
    return int(line.split()[1]) / 1024 if line else None


def maxrss_mb() -> float:
    """This process's peak RSS in MB: ``VmHWM``, else ``ru_maxrss`` (which, after a
    fork and exec, may still hold the parent's peak)."""
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """This process's current RSS in MB (``VmRSS``), or its peak without /proc."""
    current = _status_mb("VmRSS")
    return current if current is not None else maxrss_mb()


def child(package_path: Path, dest: Path) -> None:
    """The measured child: read and extract once; print its RSS before and its peak after."""
    baseline = rss_mb()
    run = read_and_extract(package_path, dest)
    result = {"baseline_mb": baseline, "maxrss_mb": maxrss_mb(), "notes": run.notes}
    sys.stdout.write(json.dumps(result) + "\n")


def measure_child(package_path: Path, dest: Path) -> dict[str, float]:
    """Run :func:`child` in a fresh interpreter and return what it printed."""
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(package_path), str(dest)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    data: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Build the package, time it, measure memory, print the table and a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--notes", type=int, default=10_000, help="notes (default: %(default)s)")
    parser.add_argument("--images", type=int, default=200, help="images (default: %(default)s)")
    parser.add_argument("--image-side", type=int, default=96, help="image side in px")
    parser.add_argument("--runs", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument("--child", nargs=2, metavar=("PACKAGE", "DEST"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return 0
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")

    with tempfile.TemporaryDirectory(prefix="anki-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        package_path = build_package(folder, args.notes, args.images, args.image_side)
        build_s = time.perf_counter() - started
        package_mb = package_path.stat().st_size / (1024 * 1024)

        runs = [read_and_extract(package_path, folder / f"media-{n}") for n in range(args.runs)]
        best = min(runs, key=lambda run: run.total_s)

        tracemalloc.start()
        read_and_extract(package_path, folder / "media-traced")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        memory = measure_child(package_path, folder / "media-child")

    traced_mb = peak / (1024 * 1024)
    growth_mb = memory["maxrss_mb"] - memory["baseline_mb"]
    verdict = "ok" if best.total_s <= TARGET_TOTAL_S else "SLOW"
    print(
        f"Package: {best.notes} notes, {best.cards} cards, {best.reviews} reviews, "
        f"{best.images} images, {package_mb:.1f} MB (built in {build_s:.1f} s)\n"
    )
    print("| step | value |")
    print("| --- | ---: |")
    print(f"| read_anki_package | {best.read_s:.2f} s |")
    print(f"| extract_media ({best.images} images) | {best.extract_s:.2f} s |")
    print(f"| read + extract (best of {args.runs}) | {best.total_s:.2f} s |")
    print(f"| tracemalloc peak (read + extract) | {traced_mb:.1f} MB |")
    print(f"| child peak RSS | {memory['maxrss_mb']:.1f} MB |")
    print(f"| child peak RSS above its RSS before reading | {growth_mb:.1f} MB |")
    print(f"\ntarget: read + extract <= {TARGET_TOTAL_S:.0f} s -> {verdict}")
    summary = {
        "read_s": round(best.read_s, 3),
        "extract_s": round(best.extract_s, 3),
        "total_s": round(best.total_s, 3),
        "tracemalloc_peak_mb": round(traced_mb, 1),
        "child_maxrss_mb": round(memory["maxrss_mb"], 1),
        "child_growth_mb": round(growth_mb, 1),
        "package_mb": round(package_mb, 1),
        "notes": best.notes,
        "cards": best.cards,
        "reviews": best.reviews,
        "images": best.images,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
