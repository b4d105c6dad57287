"""Tests of reading and writing Anki packages, and the fixture writers they share."""
