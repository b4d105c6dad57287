"""Deck files of other apps, read and written: Anki packages (``.apkg``/``.colpkg``).

Reading a package needs ``zipfile``, ``sqlite3`` and ``zstandard``, so it is not part of the
pure core; it turns a file into the plain values of :mod:`bot.core.anki_model`, which the
core turns into study items. This package imports only the core (and the standard library
and its own third-party readers/writers).
"""
