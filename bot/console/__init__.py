"""The offline console: the same commands as the Discord bot, in a terminal."""
