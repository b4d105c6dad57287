"""Sentence meaning: a small sentence-embedding model run locally (nothing is downloaded).

:mod:`bot.semantic.encoders` turns sentences into unit vectors; :mod:`bot.semantic.meaning`
caches them and answers "how close in meaning is each of these sentences to each of
those?" for the grader (:mod:`bot.core.grading`) and the tutor's retrieval. The model is
loaded lazily, once per process, on first use.
"""
