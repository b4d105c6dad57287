"""The Discord adapter: the bot, its cogs, buttons and the error handler.

Everything here renders :class:`~bot.core.replies.Reply` objects from the engine; no
grading or scheduling happens in this package.
"""
