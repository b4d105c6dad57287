"""Which sentence model the bot uses, and each model's grading thresholds (no imports of
the models themselves, so the bot starts without loading numpy or a model)."""

from __future__ import annotations

from bot.core.grading import MeaningRules

#: The encoder the bot uses (``GRADING_MODEL``).
DEFAULT_ENCODER = "wordllama"

#: Each model's thresholds, tuned on tests/data/grading/explain_answers.yaml by
#: ``benchmarks/grading.py --tune`` (similarities are on different scales per model); the
#: misconception threshold is set higher than the tuner's pick for precision (docs/grading.md).
RULES: dict[str, MeaningRules] = {
    "wordllama": MeaningRules(concept=0.56, misconception=0.75, margin=0.0, topic=0.5),
    "minilm": MeaningRules(concept=0.62, misconception=0.78, margin=0.0, topic=0.6),
}
