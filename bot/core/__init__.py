"""The study rules: content, grading, scheduling, sessions and scores.

Nothing in this package imports discord or tensorflow.
"""
