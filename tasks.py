#!/usr/bin/env python3
"""Set-up and entry points that need nothing but ``python3`` (3.11+).

    python3 tasks.py run [ARGS...]    set up .venv if needed, then start the tutor
                                      (the Discord bot with DISCORD_TOKEN, else the console)
    python3 tasks.py test             set up .venv (with the dev tools) if needed, then ruff,
                                      lint-imports, mypy and pytest with coverage
    python3 tasks.py test ARGS...     the same set-up, then only pytest ARGS (no lint, no coverage)

``run`` installs ``requirements.lock`` (what the tutor needs); ``test`` installs it and
``requirements-dev.lock`` (the tools). Either is reinstalled whenever a lock file it uses or
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
DEV_LOCK = ROOT / "requirements-dev.lock"
STAMP = VENV / ".installed-from"
#: What ruff checks and formats; mypy's, lint-imports' and coverage's targets are in
#: pyproject.toml.
LINTED = ["bot", "tests", "benchmarks", "tasks.py"]


def _say(message: str) -> None:
    sys.stderr.write(f"[tasks] {message}\n")
    sys.stderr.flush()


def _fingerprint(locks: list[Path]) -> str:
    """Which lock files the environment was installed from, and their and pyproject's text."""
    digest = hashlib.sha256()
    for path in [*locks, ROOT / "pyproject.toml"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _installed() -> set[str]:
    """The fingerprints the environment satisfies (one per line of the stamp)."""
    if not (PYTHON.exists() and STAMP.exists()):
        return set()
    return set(STAMP.read_text().split())


def ensure_environment(*, dev: bool = False) -> None:
    """Create ``.venv`` and install the locked dependencies (skipped when up to date).

    ``dev`` adds the tools of ``requirements-dev.lock`` to the runtime lock.
    """
    if sys.version_info < (3, 11):  # noqa: UP036  (tasks.py may run on an older python3)
        found = ".".join(map(str, sys.version_info[:2]))
        sys.exit(f"Python 3.11 or newer is needed (found {found}).")
    locks = [LOCK, DEV_LOCK] if dev else [LOCK]
    wanted = _fingerprint(locks)
    done = _installed()
    if wanted in done:
        return
    if not PYTHON.exists():
        _say("creating .venv …")
        venv.EnvBuilder(with_pip=True).create(VENV)
    what = "locked dependencies and dev tools" if dev else "locked dependencies"
    _say(f"installing {what} (first run takes a few minutes) …")
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    requirements = [arg for lock in locks for arg in ("-r", str(lock))]
    subprocess.run([*pip, "install", *requirements], check=True, cwd=ROOT)
    subprocess.run([*pip, "install", "--no-deps", "-e", str(ROOT)], check=True, cwd=ROOT)
    # A dev install is also a runtime install, so `run` needs nothing more after `test`.
    current = {_fingerprint([LOCK]), _fingerprint([LOCK, DEV_LOCK])}
    done = {fp for fp in done if fp in current} | {wanted, _fingerprint([LOCK])}
    STAMP.write_text("".join(f"{fp}\n" for fp in sorted(done)))
    _say("environment ready")


def run(args: list[str]) -> int:
    """Start the tutor (``python -m bot``)."""
    ensure_environment()
    return subprocess.call([str(PYTHON), "-m", "bot", *args], cwd=ROOT)


def test(args: list[str]) -> int:
    """Lint, check the architecture, type-check and run the whole test suite with coverage.

    With ``args`` only ``pytest ARGS`` runs: no lint, no coverage (so no coverage floor).
    """
    ensure_environment(dev=True)
    bin_dir = VENV / "bin"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DISCORD_TOKEN", None)
    env.pop("DATABASE_URL", None)
    pytest = [str(PYTHON), "-m", "pytest"]
    if args:
        return subprocess.call([*pytest, *args], cwd=ROOT, env=env)
    steps = [
        [str(bin_dir / "ruff"), "check", *LINTED],
        [str(bin_dir / "ruff"), "format", "--check", *LINTED],
        [str(bin_dir / "lint-imports"), "--no-logo", "--no-cache"],
        [str(bin_dir / "mypy")],
        # The floor is [tool.coverage.report] fail_under in pyproject.toml.
        [*pytest, "--cov=bot", "--cov-report=term:skip-covered"],
    ]
    for step in steps:
        _say("running " + " ".join([Path(step[0]).name, *step[1:]]))
        code = subprocess.call(step, cwd=ROOT, env=env)
        if code != 0:
            return code
    return 0


def main(argv: list[str]) -> int:
    """Dispatch ``run`` or ``test``."""
    if not argv or argv[0] not in {"run", "test"}:
        sys.stderr.write(__doc__ or "")
        return 2
    command, rest = argv[0], argv[1:]
    return run(rest) if command == "run" else test(rest)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
