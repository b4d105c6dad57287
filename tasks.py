#!/usr/bin/env python3
"""Set-up and entry points that need nothing but ``python3`` (3.11+).

    python3 tasks.py run [ARGS...]    set up .venv if needed, then start the tutor
                                      (the Discord bot with DISCORD_TOKEN, else the console)
    python3 tasks.py test [ARGS...]   set up .venv if needed, then ruff, mypy and pytest

The virtual environment is (re)built from ``requirements.lock`` whenever the lock file or
``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".installed-from"


def _say(message: str) -> None:
    sys.stderr.write(f"[tasks] {message}\n")
    sys.stderr.flush()


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_environment() -> None:
    """Create ``.venv`` and install the locked dependencies (skipped when up to date)."""
    if sys.version_info < (3, 11):  # noqa: UP036  (tasks.py may run on an older python3)
        found = ".".join(map(str, sys.version_info[:2]))
        sys.exit(f"Python 3.11 or newer is needed (found {found}).")
    wanted = _fingerprint()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        _say("creating .venv …")
        venv.EnvBuilder(with_pip=True).create(VENV)
    _say("installing locked dependencies (first run takes a few minutes) …")
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "-r", str(LOCK)], check=True, cwd=ROOT)
    subprocess.run([*pip, "install", "--no-deps", "-e", str(ROOT)], check=True, cwd=ROOT)
    STAMP.write_text(wanted + "\n")
    _say("environment ready")


def run(args: list[str]) -> int:
    """Start the tutor (``python -m bot``)."""
    ensure_environment()
    return subprocess.call([str(PYTHON), "-m", "bot", *args], cwd=ROOT)


def test(args: list[str]) -> int:
    """Lint, type-check and run the whole test suite."""
    ensure_environment()
    bin_dir = VENV / "bin"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DISCORD_TOKEN", None)
    env.pop("DATABASE_URL", None)
    steps = [
        [str(bin_dir / "ruff"), "check", "bot", "tests", "benchmarks", "tasks.py"],
        [str(bin_dir / "mypy"), "bot"],
    ]
    if not args:
        for step in steps:
            _say("running " + " ".join([Path(step[0]).name, *step[1:]]))
            code = subprocess.call(step, cwd=ROOT, env=env)
            if code != 0:
                return code
    return subprocess.call([str(PYTHON), "-m", "pytest", *args], cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    """Dispatch ``run`` or ``test``."""
    if not argv or argv[0] not in {"run", "test"}:
        sys.stderr.write(__doc__ or "")
        return 2
    command, rest = argv[0], argv[1:]
    return run(rest) if command == "run" else test(rest)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
