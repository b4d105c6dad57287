"""The training worker: the only module that imports TensorFlow.

Run as ``python -m bot.training.worker``. It imports TensorFlow once, then answers framed
jobs (see :mod:`bot.training.protocol`) on stdin/stdout until its input ends. The bot never
imports this module; importing it is cheap anyway because TensorFlow is only imported
inside :func:`main` / :class:`Lab`.

Speed. Building a Keras model and optimizer and running the first step in eager mode costs
~50 ms per job. Instead the worker keeps one *runner* per ``(preset, optimizer)``: a
model, an optimizer and ``tf.function`` step functions traced once. Every job still gets
a fresh model: the variables are re-initialised from the job's seed and the optimizer's
state (iteration count, moments) is zeroed and its learning rate set, which is exactly the
state of a newly built optimizer. A warm single step then takes a few milliseconds.

Determinism. Each job calls ``keras.utils.set_random_seed(seed)`` and then draws the
initial weights exactly as a freshly built Keras model would (a new ``GlorotUniform()``
per ``Dense`` kernel, zero biases), so the same request always gives the same numbers,
and ``keras.utils.set_random_seed(seed)`` followed by the lesson's code gives the same
starting weights. TensorFlow runs single-threaded for predictable latency.

Stdout is reserved for frames: :func:`main` duplicates the real stdout for frames and
points file descriptor 1 (and ``sys.stdout``) at stderr, so library noise cannot corrupt
the stream. Stderr is a pipe the pool reads: the worker's log records go there as marked
JSON lines (:class:`bot.training.process.RecordLineHandler`), TensorFlow's own output as
plain lines; the pool logs both (:func:`bot.training.process.forward_stderr`). The pool
starts the worker with an allow-listed environment (no bot secrets).

Exiting: after its last frame the worker runs the ``atexit`` handlers (coverage, logging)
and leaves with ``os._exit``: tearing down TensorFlow's modules at interpreter exit takes
seconds, longer than the pool's shutdown grace.

Fault injection (tests only): when started with ``TUTOR_TRAINING_FAULTS=1`` in its
environment the worker honours a job's ``"fault"`` field: ``crash`` (exit at once),
``hang`` (sleep forever), ``oom`` (allocate until the memory limit is hit), ``slow``
(sleep one second, then train normally). Otherwise the field is ignored. The pool only
sets that variable when ``PoolConfig(allow_fault_injection=True)``, and removes it from
the worker's environment otherwise.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import math
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any, BinaryIO

from bot.errors import BadInput
from bot.log import get_logger
from bot.training.jobs import OPTIMIZERS, PRESETS, TrainRequest, TrainResult, Weights
from bot.training.process import FORCED, RecordLineHandler
from bot.training.protocol import FAULTS_ENV, read_frame_sync, write_frame_sync

#: Named explicitly: run as ``-m``, ``__name__`` is ``__main__``.
log = get_logger("bot.training.worker")

#: Models with at most this many parameters show their weights before/after.
TINY_MODEL_MAX_PARAMS = 8
#: house-prices: how many synthetic houses and features.
HOUSE_SAMPLES = 64
HOUSE_FEATURES = 3
#: The oom fault stops allocating here if no memory limit is set (never eat the host).
_OOM_FAULT_CAP_BYTES = 4 * 1024**3

ProgressFn = Callable[[int, int], None]


class CpuLimitExceeded(Exception):
    """Raised from the SIGXCPU handler when a job uses more CPU time than allowed."""


def rss_mb() -> float | None:
    """This process's resident set size in MB (``VmRSS`` from ``/proc/self/status``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _configure_environment() -> None:
    """Quiet TensorFlow and keep it single-threaded; call before importing it.

    The pool already sets these (:data:`bot.training.process.FORCED`); this covers a
    worker started by hand (``--once``)."""
    for name, value in FORCED.items():
        os.environ.setdefault(name, value)


def _setup_worker_logging() -> None:
    """Send every log record to stderr as one marked line for the pool to re-log.

    The level follows ``LOG_LEVEL`` (default WARNING), like the bot's own logging.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(RecordLineHandler(sys.stderr))
    chosen = (os.environ.get("LOG_LEVEL") or "WARNING").upper()
    root.setLevel(chosen if chosen in logging.getLevelNamesMapping() else "WARNING")


def seed_like_keras(seed: int) -> None:
    """Seed Python's and NumPy's RNGs as ``keras.utils.set_random_seed(seed)`` does.

    ``keras.utils.set_random_seed`` also calls ``tf.random.set_seed``, which clears
    TensorFlow's kernel cache: every job then pays ~30 ms re-creating kernels (measured on
    2 cores: a warm single step went from ~3 ms to ~35 ms). The lab uses no stateful TF
    random op (initial weights come from Keras initialisers whose seeds are drawn from
    Python's ``random``, then stateless ops; the house-prices data from NumPy's
    ``default_rng(seed)``), so seeding Python and NumPy reproduces a freshly built Keras
    model after ``keras.utils.set_random_seed(seed)`` bit for bit (checked by the tests).
    """
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)


@dataclass
class _Runner:
    """A model, an optimizer and traced step functions for one (preset, optimizer)."""

    model: Any
    optimizer: Any
    train_step: Any
    loss_fn: Any
    apply: bool


class Lab:
    """Runs training jobs. Creating it imports TensorFlow (a few seconds)."""

    def __init__(self) -> None:
        _configure_environment()
        import keras
        import numpy as np
        import tensorflow as tf

        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(1)
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        self._tf = tf
        self._keras = keras
        self._np = np
        self._runners: dict[tuple[str, str], _Runner] = {}
        self._data_cache: dict[tuple[str, int], tuple[Any, Any]] = {}
        self.jobs_done = 0

    # -- building -----------------------------------------------------------------------

    def _layer_sizes(self, preset: str) -> tuple[int, list[int]]:
        """(input features, units per Dense layer) for ``preset``."""
        if preset == "house-prices":
            return HOUSE_FEATURES, [8, 1]
        return 1, [1]

    def _build_model(self, preset: str) -> Any:
        keras = self._keras
        n_in, units = self._layer_sizes(preset)
        layers: list[Any] = [keras.Input(shape=(n_in,))]
        for i, n in enumerate(units):
            last = i == len(units) - 1
            layers.append(keras.layers.Dense(n, activation=None if last else "relu"))
        return keras.Sequential(layers)

    def _build_optimizer(self, name: str) -> Any:
        optimizers = self._keras.optimizers
        cls = {"sgd": optimizers.SGD, "adam": optimizers.Adam, "rmsprop": optimizers.RMSprop}
        return cls[name](learning_rate=0.01)

    def _runner(self, preset: str, optimizer_name: str) -> _Runner:
        key = (preset, optimizer_name)
        runner = self._runners.get(key)
        if runner is not None:
            return runner
        tf = self._tf
        model = self._build_model(preset)
        optimizer = self._build_optimizer(optimizer_name)
        optimizer.build(model.trainable_variables)
        apply = preset != "no-apply"

        @tf.function(reduce_retracing=True)  # type: ignore[untyped-decorator]
        def train_step(x: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                prediction = model(x, training=True)
                loss = tf.reduce_mean(tf.square(y - prediction))
            grads = tape.gradient(loss, model.trainable_variables)
            if apply:
                optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            return loss, grads

        @tf.function(reduce_retracing=True)  # type: ignore[untyped-decorator]
        def loss_fn(x: Any, y: Any) -> Any:
            return tf.reduce_mean(tf.square(y - model(x, training=False)))

        runner = _Runner(model, optimizer, train_step, loss_fn, apply)
        self._runners[key] = runner
        return runner

    # -- per-job state ------------------------------------------------------------------

    def _reset(self, runner: _Runner, seed: int, learning_rate: float) -> None:
        """Give the runner a fresh model and optimizer state for ``seed``."""
        keras = self._keras
        seed_like_keras(seed)
        dense_layers = [layer for layer in runner.model.layers if hasattr(layer, "kernel")]
        # A freshly built model creates one GlorotUniform() per Dense layer, in order, each
        # drawing its seed from the just-seeded Python RNG; then builds with zero biases.
        initializers = [keras.initializers.GlorotUniform() for _ in dense_layers]
        for layer, init in zip(dense_layers, initializers, strict=True):
            layer.kernel.assign(init(tuple(layer.kernel.shape), dtype="float32"))
            layer.bias.assign(self._tf.zeros_like(layer.bias))
        optimizer = runner.optimizer
        for variable in optimizer.variables:
            variable.assign(self._tf.zeros_like(variable))
        optimizer.learning_rate = learning_rate

    def _data(self, preset: str, seed: int) -> tuple[Any, Any]:
        """Inputs and targets for ``preset`` (house-prices: synthetic, normalised, by seed)."""
        tf = self._tf
        if preset != "house-prices":
            return tf.constant([[1.0]]), tf.constant([[2.0]])
        cached = self._data_cache.get((preset, seed))
        if cached is not None:
            return cached
        np = self._np
        rng = np.random.default_rng(seed)
        size_m2 = rng.uniform(40.0, 250.0, HOUSE_SAMPLES)
        rooms = rng.integers(1, 7, HOUSE_SAMPLES).astype(np.float64)
        age_years = rng.uniform(0.0, 80.0, HOUSE_SAMPLES)
        noise = rng.normal(0.0, 15_000.0, HOUSE_SAMPLES)
        price = 50_000 + 2_500 * size_m2 + 12_000 * rooms - 900 * age_years + noise
        features = np.stack([size_m2, rooms, age_years], axis=1)
        features = (features - features.mean(axis=0)) / features.std(axis=0)
        target = ((price - price.mean()) / price.std()).reshape(-1, 1)
        data = (
            tf.constant(features.astype(np.float32)),
            tf.constant(target.astype(np.float32)),
        )
        if len(self._data_cache) > 64:
            self._data_cache.clear()
        self._data_cache[(preset, seed)] = data
        return data

    def _weights(self, runner: _Runner) -> Weights | None:
        variables = runner.model.trainable_variables
        if sum(int(self._np.prod(v.shape)) for v in variables) > TINY_MODEL_MAX_PARAMS:
            return None
        return {str(v.name): [float(x) for x in v.numpy().reshape(-1).tolist()] for v in variables}

    # -- running ------------------------------------------------------------------------

    def warm_up(self, which: str = "all") -> None:
        """Trace step functions ahead of time (``all``, ``default`` or ``none``)."""
        if which == "none":
            return
        pairs = (
            [(p, o) for p in PRESETS for o in OPTIMIZERS]
            if which == "all"
            else [("single-step", "sgd")]
        )
        for preset, optimizer in pairs:
            self.run(TrainRequest(preset=preset, optimizer=optimizer, steps=2))
        self.jobs_done = 0

    def run(
        self, request: TrainRequest, progress: ProgressFn | None = None, progress_every: int = 25
    ) -> TrainResult:
        """Train a fresh model for ``request`` and describe what happened."""
        started = time.perf_counter()
        runner = self._runner(request.preset, request.optimizer)
        self._reset(runner, request.seed, request.learning_rate)
        x, y = self._data(request.preset, request.seed)
        weights_before = self._weights(runner)

        losses: list[float] = []
        diverged_at: int | None = None
        last_grads: Any = None
        for step in range(1, request.steps + 1):
            loss, last_grads = runner.train_step(x, y)
            value = float(loss)  # the loss before update `step`
            if not math.isfinite(value):
                diverged_at = step - 1
                break
            losses.append(value)
            if progress is not None and progress_every > 0 and step % progress_every == 0:
                progress(step, request.steps)
        if diverged_at is None:
            final = float(runner.loss_fn(x, y))
            if math.isfinite(final):
                losses.append(final)
            else:
                diverged_at = request.steps
        if not losses:
            raise RuntimeError("the initial loss is not finite")
        if diverged_at == 0:  # cannot happen with finite data; keep the contract anyway
            diverged_at = 1

        diverged = diverged_at is not None
        weights_after = None if diverged else self._weights(runner)
        note = self._note(request, runner, losses, diverged_at, last_grads)
        self.jobs_done += 1
        return TrainResult(
            preset=request.preset,
            optimizer=request.optimizer,
            lr=request.learning_rate,
            steps=request.steps,
            seed=request.seed,
            loss_before=losses[0],
            loss_after=None if diverged else losses[-1],
            losses=losses,
            weights_before=weights_before,
            weights_after=weights_after,
            diverged=diverged,
            diverged_at_step=diverged_at,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
            note=note,
            worker_rss_mb=rss_mb(),
        )

    def _note(
        self,
        request: TrainRequest,
        runner: _Runner,
        losses: list[float],
        diverged_at: int | None,
        grads: Any,
    ) -> str:
        if diverged_at is not None:
            return (
                f"The loss became NaN or infinite after step {diverged_at}: each update "
                "overshot the minimum by more than the last — try a smaller learning rate."
            )
        if not runner.apply:
            shown = ""
            if grads is not None and self._weights(runner) is not None:
                parts = [
                    f"{v.name} {float(g.numpy().reshape(-1)[0]):.4g}"
                    for v, g in zip(runner.model.trainable_variables, grads, strict=True)
                ]
                shown = f" ({', '.join(parts)})"
            return (
                f"The gradients were computed{shown} but optimizer.apply_gradients was never "
                "called, so the weights — and the loss — did not move."
            )
        before, after = losses[0], losses[-1]
        if after < before:
            return (
                "The loss dropped because apply_gradients moved every weight a small step "
                "against its gradient, towards a lower loss."
            )
        if after > before:
            return (
                "The loss went up: the steps were so large they jumped past the minimum — "
                "try a smaller learning rate."
            )
        return "The loss did not change: the steps were too small to matter."


# -- process plumbing -------------------------------------------------------------------


def _on_sigxcpu(signum: int, frame: FrameType | None) -> None:
    raise CpuLimitExceeded()


@contextlib.contextmanager
def _cpu_limit(seconds: int) -> Iterator[None]:
    """Limit the CPU time of the enclosed block with a soft RLIMIT_CPU (0 = no limit)."""
    if seconds <= 0:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    wanted = math.ceil(usage.ru_utime + usage.ru_stime) + seconds
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (wanted, hard))
    except (ValueError, OSError):
        log.warning("could not set the per-job CPU limit", exc_info=True)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _oom_fault() -> None:
    """Allocate memory until the allocation fails (``RLIMIT_DATA`` counts reserved, not
    touched, private memory, so untouched ``numpy.empty`` blocks hit it in milliseconds)."""
    import numpy as np

    hoard: list[Any] = []
    total = 0
    chunk = 64 * 1024 * 1024
    try:
        while total < _OOM_FAULT_CAP_BYTES:
            hoard.append(np.empty(chunk, dtype=np.uint8))
            total += chunk
    except MemoryError:
        hoard.clear()  # leave room to report the error
        raise
    hoard.clear()
    raise MemoryError("oom fault reached its safety cap")


def _apply_fault(fault: str) -> None:
    log.warning("injecting fault %r", fault)
    if fault == "crash":
        os._exit(70)
    if fault == "hang":
        while True:
            time.sleep(3600)
    if fault == "oom":
        _oom_fault()
    if fault == "slow":
        time.sleep(1.0)


def _handle_train(
    lab: Lab, message: dict[str, Any], out: BinaryIO, faults_enabled: bool, job_cpu_s: int
) -> bool:
    """Run one train frame; returns False when the worker should exit afterwards."""
    job_id = message.get("id")
    try:
        request = TrainRequest.from_dict(message.get("request") or {})
    except (BadInput, KeyError, TypeError, ValueError) as exc:
        write_frame_sync(
            out, {"op": "error", "id": job_id, "kind": "bad_input", "message": str(exc)}
        )
        return True
    every = int(message.get("progress_every") or 0)

    def progress(step: int, total: int) -> None:
        write_frame_sync(out, {"op": "progress", "id": job_id, "step": step, "total": total})

    try:
        with _cpu_limit(job_cpu_s):
            fault = message.get("fault")
            if fault and faults_enabled:
                _apply_fault(str(fault))
            result = lab.run(request, progress, every)
    except MemoryError:
        log.error("job %s ran out of memory; exiting", job_id)
        write_frame_sync(
            out, {"op": "error", "id": job_id, "kind": "oom", "message": "out of memory"}
        )
        return False
    except CpuLimitExceeded:
        log.error("job %s exceeded its CPU limit; exiting", job_id)
        write_frame_sync(
            out, {"op": "error", "id": job_id, "kind": "cpu", "message": "CPU limit exceeded"}
        )
        return False
    except Exception as exc:
        log.exception("job %s failed", job_id)
        write_frame_sync(
            out,
            {
                "op": "error",
                "id": job_id,
                "kind": "internal",
                "message": f"{type(exc).__name__}: {exc}",
            },
        )
        return True
    write_frame_sync(out, {"op": "result", "id": job_id, "result": result.to_dict()})
    return True


def serve(
    lab: Lab, inp: BinaryIO, out: BinaryIO, *, faults_enabled: bool = False, job_cpu_s: int = 0
) -> None:
    """Answer frames from ``inp`` on ``out`` until the input ends or a shutdown frame."""
    while True:
        message = read_frame_sync(inp)
        if message is None:
            return
        op = message.get("op")
        if op == "ping":
            write_frame_sync(
                out,
                {
                    "op": "pong",
                    "id": message.get("id"),
                    "pid": os.getpid(),
                    "worker_rss_mb": rss_mb(),
                    "jobs_done": lab.jobs_done,
                },
            )
        elif op == "train":
            if not _handle_train(lab, message, out, faults_enabled, job_cpu_s):
                return
        elif op == "shutdown":
            return
        else:
            write_frame_sync(
                out,
                {
                    "op": "error",
                    "id": message.get("id"),
                    "kind": "internal",
                    "message": f"unknown op {op!r}",
                },
            )


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.training.worker")
    parser.add_argument(
        "--warm",
        choices=("all", "default", "none"),
        default="default",
        help="trace step functions at start-up",
    )
    parser.add_argument(
        "--job-cpu-s", type=int, default=0, help="per-job CPU-time limit in seconds (0: none)"
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="run one job (--request JSON) and print the result as JSON",
    )
    parser.add_argument(
        "--request", default="{}", help="with --once: options as JSON, e.g. '{\"steps\": 5}'"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point: import TensorFlow once, then serve frames (or run one job)."""
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    _setup_worker_logging()
    # Reserve the real stdout for frames; everything else written to fd 1 goes to stderr.
    sys.stdout.flush()
    frames_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    out = os.fdopen(frames_fd, "wb")
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
    faults_enabled = os.environ.get(FAULTS_ENV) == "1"
    if faults_enabled:
        log.warning("fault injection is enabled (%s=1): test use only", FAULTS_ENV)

    lab = Lab()
    if args.once:
        from bot.training.jobs import parse_train_options

        try:
            request = parse_train_options(**json.loads(args.request))
        except (BadInput, TypeError, ValueError) as exc:
            print(str(exc), file=sys.stderr)
            return 2
        result = lab.run(request)
        out.write((json.dumps(result.to_dict()) + "\n").encode("utf-8"))
        out.flush()
        return 0
    lab.warm_up(args.warm)
    serve(lab, sys.stdin.buffer, out, faults_enabled=faults_enabled, job_cpu_s=args.job_cpu_s)
    out.flush()
    return 0


def exit_quickly(code: int) -> None:
    """Run the ``atexit`` handlers, flush the standard streams and leave at once."""
    try:
        atexit._run_exitfuncs()
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    finally:
        os._exit(code)


def _entry_point() -> None:
    try:
        code = main()
    except SystemExit as stop:  # argparse
        code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    except BaseException:
        log.exception("the training worker stopped unexpectedly")
        code = 1
    exit_quickly(code)


if __name__ == "__main__":
    _entry_point()
