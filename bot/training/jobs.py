"""Training requests and results: plain data, validated, no TensorFlow.

A member picks a *preset* and a few numbers; nothing they type is ever executed. This
module turns the raw options (strings from a slash command or the CLI, or numbers) into a
validated :class:`TrainRequest`, and defines the :class:`TrainResult` a worker sends back.
Both travel between processes as JSON-compatible dicts (``to_dict``/``from_dict``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from bot.errors import BadInput

#: The lessons a member can run (see the lesson "Why training optimizes model weights").
PRESETS: Final[tuple[str, ...]] = ("single-step", "no-apply", "house-prices")
#: Optimizers a member can choose.
OPTIMIZERS: Final[tuple[str, ...]] = ("sgd", "adam", "rmsprop")
#: How optimizers are written for people.
OPTIMIZER_LABELS: Final[dict[str, str]] = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}

MIN_LEARNING_RATE: Final = 1e-5
MAX_LEARNING_RATE: Final = 10.0
MIN_STEPS: Final = 1
MAX_STEPS: Final = 500
MIN_SEED: Final = 0
MAX_SEED: Final = 2**31 - 1

DEFAULT_PRESET: Final = "single-step"
DEFAULT_OPTIMIZER: Final = "sgd"
DEFAULT_SEED: Final = 42
#: Default learning rate per optimizer (the lesson uses SGD 0.1 and Adam 0.01).
DEFAULT_LEARNING_RATES: Final[dict[str, float]] = {"sgd": 0.1, "adam": 0.01, "rmsprop": 0.01}
#: Default number of steps per preset.
DEFAULT_STEPS: Final[dict[str, int]] = {"single-step": 1, "no-apply": 1, "house-prices": 100}

LEARNING_RATE_MESSAGE: Final = "Learning rate must be a number from 0.00001 to 10."
STEPS_MESSAGE: Final = f"Steps must be a whole number from {MIN_STEPS} to {MAX_STEPS}."
SEED_MESSAGE: Final = f"Seed must be a whole number from {MIN_SEED} to {MAX_SEED}."


def _shown(value: object) -> str:
    """A short, safe rendering of what the member typed, for error messages."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**24:
        # str() of a huge int is slow and refuses past 4300 digits.
        return "a huge number"
    text = " ".join(str(value).split()).replace("`", "'")  # one line, whatever was typed
    return text if len(text) <= 24 else text[:21] + "..."


def _with_got(message: str, value: object) -> str:
    """``message`` plus "(got 'value')"."""
    return f"{message[:-1]} (got '{_shown(value)}')."


def _normalise_name(value: str) -> str:
    """``"Single_Step "`` -> ``"single-step"``."""
    return "-".join(value.strip().casefold().replace("_", " ").replace("-", " ").split())


@dataclass(frozen=True, slots=True)
class TrainRequest:
    """One validated training job. Constructing it checks every range (raises ``BadInput``)."""

    preset: str = DEFAULT_PRESET
    optimizer: str = DEFAULT_OPTIMIZER
    learning_rate: float = DEFAULT_LEARNING_RATES[DEFAULT_OPTIMIZER]
    steps: int = 1
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise BadInput(
                f"Unknown preset '{_shown(self.preset)}'. Choose one of: {', '.join(PRESETS)}."
            )
        if self.optimizer not in OPTIMIZERS:
            raise BadInput(
                f"Unknown optimizer '{_shown(self.optimizer)}'. "
                f"Choose one of: {', '.join(OPTIMIZERS)}."
            )
        lr = self.learning_rate
        if (
            isinstance(lr, bool)
            or not isinstance(lr, int | float)
            or not math.isfinite(lr)
            or not MIN_LEARNING_RATE <= lr <= MAX_LEARNING_RATE
        ):
            raise BadInput(LEARNING_RATE_MESSAGE)
        if isinstance(self.steps, bool) or not isinstance(self.steps, int):
            raise BadInput(STEPS_MESSAGE)
        if not MIN_STEPS <= self.steps <= MAX_STEPS:
            raise BadInput(STEPS_MESSAGE)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise BadInput(SEED_MESSAGE)
        if not MIN_SEED <= self.seed <= MAX_SEED:
            raise BadInput(SEED_MESSAGE)
        # Store a real float so JSON round trips are exact and comparable.
        object.__setattr__(self, "learning_rate", float(lr))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict (the wire format sent to a worker)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainRequest:
        """Rebuild (and re-validate) a request from :meth:`to_dict` output."""
        return cls(
            preset=data["preset"],
            optimizer=data["optimizer"],
            learning_rate=data["learning_rate"],
            steps=data["steps"],
            seed=data["seed"],
        )


def _parse_float(value: object, message: str) -> float:
    """Parse a float from a number or a string; ``BadInput(message)`` otherwise."""
    if isinstance(value, bool):
        raise BadInput(_with_got(message, value))
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            raise BadInput(_with_got(message, value)) from None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise BadInput(_with_got(message, value)) from None
    else:
        raise BadInput(message)
    if not math.isfinite(number):
        raise BadInput(_with_got(message, value))
    return number


def _parse_int(value: object, message: str) -> int:
    """Parse a whole number from an int, an integral float or a string."""
    if isinstance(value, bool):
        raise BadInput(_with_got(message, value))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise BadInput(_with_got(message, value))
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            raise BadInput(_with_got(message, value)) from None
        if math.isfinite(number) and number.is_integer():
            return int(number)
        raise BadInput(_with_got(message, value))
    raise BadInput(message)


def parse_train_options(
    *,
    preset: str | None = None,
    optimizer: str | None = None,
    learning_rate: float | str | None = None,
    steps: int | float | str | None = None,
    seed: int | float | str | None = None,
) -> TrainRequest:
    """Turn raw options (strings or numbers; ``None`` = default) into a :class:`TrainRequest`.

    Names are forgiving (``"Single_Step"``, ``"Adam"``); numbers may be strings
    (``"1e-3"``, ``"25"``). Anything invalid raises :class:`bot.errors.BadInput` whose
    message names the allowed values, e.g. "Learning rate must be a number from 0.00001
    to 10." Defaults: preset ``single-step``, optimizer ``sgd``, learning rate by
    optimizer (SGD 0.1, Adam/RMSprop 0.01), steps by preset (1, or 100 for
    ``house-prices``), seed 42.
    """
    chosen_preset = DEFAULT_PRESET if preset is None else _normalise_name(str(preset))
    if chosen_preset not in PRESETS:
        raise BadInput(f"Unknown preset '{_shown(preset)}'. Choose one of: {', '.join(PRESETS)}.")
    chosen_optimizer = DEFAULT_OPTIMIZER if optimizer is None else _normalise_name(str(optimizer))
    if chosen_optimizer not in OPTIMIZERS:
        raise BadInput(
            f"Unknown optimizer '{_shown(optimizer)}'. Choose one of: {', '.join(OPTIMIZERS)}."
        )
    lr = (
        DEFAULT_LEARNING_RATES[chosen_optimizer]
        if learning_rate is None or learning_rate == ""
        else _parse_float(learning_rate, LEARNING_RATE_MESSAGE)
    )
    if not MIN_LEARNING_RATE <= lr <= MAX_LEARNING_RATE:
        raise BadInput(_with_got(LEARNING_RATE_MESSAGE, learning_rate))
    n_steps = (
        DEFAULT_STEPS[chosen_preset]
        if steps is None or steps == ""
        else _parse_int(steps, STEPS_MESSAGE)
    )
    if not MIN_STEPS <= n_steps <= MAX_STEPS:
        raise BadInput(_with_got(STEPS_MESSAGE, steps))
    chosen_seed = DEFAULT_SEED if seed is None or seed == "" else _parse_int(seed, SEED_MESSAGE)
    if not MIN_SEED <= chosen_seed <= MAX_SEED:
        raise BadInput(_with_got(SEED_MESSAGE, seed))
    return TrainRequest(
        preset=chosen_preset,
        optimizer=chosen_optimizer,
        learning_rate=lr,
        steps=n_steps,
        seed=chosen_seed,
    )


#: Weights of a tiny model by variable name (``kernel``, ``bias``), flattened.
Weights = dict[str, list[float]]


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What one training job produced.

    ``losses`` has one entry per weight state: ``losses[0]`` is the loss before any update
    (``loss_before``) and ``losses[k]`` the loss after ``k`` steps; so a run of ``n`` steps
    has ``n + 1`` entries unless it diverged. When the loss becomes NaN or infinite after
    step ``k``, training stops: ``diverged`` is set, ``diverged_at_step`` is ``k``,
    ``losses`` holds only the finite prefix and ``loss_after``/``weights_after`` are
    ``None``. ``weights_before``/``weights_after`` are only filled for tiny models.
    ``elapsed_ms`` is the time the worker spent on the job; ``worker_rss_mb`` the worker's
    resident memory afterwards. ``note`` is a one-line explanation of what happened.
    ``warm_up_s`` is set when the job had to wait for a worker to start (the lab had
    stopped its idle workers, or was just starting): the seconds it waited.
    """

    preset: str
    optimizer: str
    lr: float
    steps: int
    seed: int
    loss_before: float
    loss_after: float | None
    losses: list[float] = field(default_factory=list)
    weights_before: Weights | None = None
    weights_after: Weights | None = None
    diverged: bool = False
    diverged_at_step: int | None = None
    elapsed_ms: float = 0.0
    note: str = ""
    worker_rss_mb: float | None = None
    warm_up_s: float | None = None

    @property
    def steps_run(self) -> int:
        """How many optimizer steps actually ran (fewer than ``steps`` after divergence)."""
        if self.diverged and self.diverged_at_step is not None:
            return self.diverged_at_step
        return self.steps

    @property
    def loss_change(self) -> float | None:
        """``loss_after - loss_before`` (``None`` when the run diverged)."""
        if self.loss_after is None:
            return None
        return self.loss_after - self.loss_before

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict (the wire format and ``--json`` output)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainResult:
        """Rebuild a result from :meth:`to_dict` output (unknown keys are ignored)."""

        def weights(value: Any) -> Weights | None:
            if value is None:
                return None
            return {str(name): [float(x) for x in values] for name, values in value.items()}

        loss_after = data.get("loss_after")
        at_step = data.get("diverged_at_step")
        rss = data.get("worker_rss_mb")
        warm_up = data.get("warm_up_s")
        return cls(
            preset=str(data["preset"]),
            optimizer=str(data["optimizer"]),
            lr=float(data["lr"]),
            steps=int(data["steps"]),
            seed=int(data["seed"]),
            loss_before=float(data["loss_before"]),
            loss_after=None if loss_after is None else float(loss_after),
            losses=[float(x) for x in data.get("losses", [])],
            weights_before=weights(data.get("weights_before")),
            weights_after=weights(data.get("weights_after")),
            diverged=bool(data.get("diverged", False)),
            diverged_at_step=None if at_step is None else int(at_step),
            elapsed_ms=float(data.get("elapsed_ms", 0.0)),
            note=str(data.get("note", "")),
            worker_rss_mb=None if rss is None else float(rss),
            warm_up_s=None if warm_up is None else float(warm_up),
        )
