"""``/question``: moderators manage questions only their server sees.

The rules live in core (:mod:`bot.core.question_drafts`, :mod:`bot.core.question_files`)
and the work in :class:`~bot.services.question_bank.QuestionBankService`; this cog checks
permissions (on every command, form and button), opens the forms, downloads uploads and
attaches files.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.deck_imports import MAX_PACKAGE_BYTES, REPORT_FILENAME, package_too_big
from bot.core.question_drafts import (
    MAX_EXPLANATION,
    MAX_HINT,
    MAX_QUESTION,
    QuestionDraft,
    check_deck_name,
    draft_problem_reply,
)
from bot.core.question_list import LIST_TOKEN_PREFIX, parse_list_token
from bot.core.replies import Choice, ChoiceStyle
from bot.errors import BadInput, ExpiredAction, TutorError
from bot.exts.checks import ensure_moderator
from bot.exts.client import deck_autocomplete, learner_for
from bot.exts.error_handler import report_error
from bot.exts.render import render
from bot.log import get_logger

if TYPE_CHECKING:
    from bot.exts.client import TutorBot
    from bot.services.deck_import import ImportResult

log = get_logger(__name__)

Difficulty = Literal["easy", "medium", "hard"]
Kind = Literal["mcq", "practice", "explain"]
#: How long discord.py keeps an unsent form object (submissions are handled from the
#: custom_id, so a form submitted later, even after a restart, still works).
FORM_TIMEOUT_S = 30 * 60
ExportFormat = Literal["yaml", "csv", "apkg", "quizlet", "red"]
#: The longest text a Discord form's box takes.
MAX_PASTE = 4000
#: The explain form's concepts and misconceptions boxes (limits in core keep them shorter).
MAX_BOX = 3000
CONCEPTS_PLACEHOLDER = (
    "weights change: Training adjusts the weights. | Each step nudges the weights.\nloss goes down"
)
PASTE_FIELD = "cards"
PASTE_PLACEHOLDER = (
    "One card per line: term, a tab, its definition\nosmosis\twater crossing a membrane"
)


def _file(name: str, text: str) -> discord.File:
    return discord.File(io.BytesIO(text.encode("utf-8")), filename=name)


class _RoutedModal(discord.ui.Modal):
    """A form answered by the cog from its custom_id (so it works after a restart too)."""

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        """Nothing: the cog's handler registered for the custom_id's prefix answers."""

    async def on_error(  # type: ignore[override]  # discord.py's Modal signature
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        """Unexpected failures get the usual friendly reply."""
        await report_error(interaction, error)


class QuestionModal(_RoutedModal):
    """The Discord add/edit form: question, options, correct option, explanation (+ practice).

    An explain prompt gets its own five boxes instead (:meth:`add_explain_fields`).
    """

    def __init__(self, cog: Questions, draft: QuestionDraft, item_id: int | None) -> None:
        title = f"Edit question #{item_id}" if item_id else f"New {draft.kind} · {draft.deck}"
        super().__init__(
            title=title[:45], timeout=FORM_TIMEOUT_S, custom_id=form_id(draft, item_id)
        )
        self.cog = cog
        self.draft = draft
        self.item_id = item_id
        if draft.kind == "explain":
            self.add_explain_fields(draft)
        else:
            self.add_choice_fields(draft)

    def add_explain_fields(self, draft: QuestionDraft) -> None:
        """Prompt, model answer, hint, concepts and misconceptions (Discord's five boxes)."""
        paragraph = discord.TextStyle.paragraph
        boxes: list[discord.ui.TextInput[QuestionModal]] = [
            discord.ui.TextInput(
                label="Prompt (what members explain)",
                style=paragraph,
                custom_id="question",
                placeholder="Explain why training changes a model's weights.",
                default=draft.question or None,
                max_length=MAX_QUESTION,
            ),
            discord.ui.TextInput(
                label="Model answer (shown after answering)",
                style=paragraph,
                custom_id="explanation",
                default=draft.explanation or None,
                max_length=MAX_EXPLANATION,
            ),
            discord.ui.TextInput(
                label="Hint (optional)",
                custom_id="hint",
                placeholder="Think of the weights as settings.",
                default=draft.hint or None,
                required=False,
                max_length=MAX_HINT,
            ),
            discord.ui.TextInput(
                label="Concepts, one a line: name: example | …",
                style=paragraph,
                custom_id="concepts",
                placeholder=CONCEPTS_PLACEHOLDER,
                default=draft.concepts or None,
                max_length=MAX_BOX,
            ),
            discord.ui.TextInput(
                label="Misconceptions (optional): wrong => fix",
                style=paragraph,
                custom_id="misconceptions",
                placeholder="training changes the data => Training changes the weights, "
                "not the data.",
                default=draft.misconceptions or None,
                required=False,
                max_length=MAX_BOX,
            ),
        ]
        for box in boxes:
            self.add_item(box)

    def add_choice_fields(self, draft: QuestionDraft) -> None:
        """Question, options, correct option and explanation (+ a practice box)."""
        paragraph = discord.TextStyle.paragraph
        self.question: discord.ui.TextInput[QuestionModal] = discord.ui.TextInput(
            label="Question",
            style=paragraph,
            custom_id="question",
            default=draft.question or None,
            max_length=MAX_QUESTION,
        )
        self.options: discord.ui.TextInput[QuestionModal] = discord.ui.TextInput(
            label="Options, one per line (2–6)",
            style=paragraph,
            custom_id="options",
            placeholder="Loss function\nOptimizer\nActivation function",
            default=draft.options or None,
            max_length=1400,
        )
        self.answer: discord.ui.TextInput[QuestionModal] = discord.ui.TextInput(
            label="Correct option (letter A–F or its text)",
            custom_id="answer",
            placeholder="A",
            default=draft.answer or None,
            max_length=200,
        )
        self.explanation: discord.ui.TextInput[QuestionModal] = discord.ui.TextInput(
            label="Explanation (shown after answering)",
            style=paragraph,
            custom_id="explanation",
            default=draft.explanation or None,
            max_length=MAX_EXPLANATION,
        )
        for field in (self.question, self.options, self.answer, self.explanation):
            self.add_item(field)
        self.practice: discord.ui.TextInput[QuestionModal] | None = None
        if draft.kind == "practice":
            self.practice = discord.ui.TextInput(
                label="Hint, steps and mistakes",
                style=paragraph,
                custom_id="practice",
                placeholder="Hint: …\nStep: …\nStep: …\nMistake: …",
                default=draft.practice or None,
                max_length=2000,
            )
            self.add_item(self.practice)


class PasteModal(_RoutedModal):
    """``/question paste``: one big box for a Quizlet set (``term<TAB>definition`` lines)."""

    def __init__(self, deck: str) -> None:
        super().__init__(
            title=f"Paste a set · {deck}"[:45], timeout=FORM_TIMEOUT_S, custom_id=paste_id(deck)
        )
        self.cards: discord.ui.TextInput[PasteModal] = discord.ui.TextInput(
            label="Cards, one per line",
            style=discord.TextStyle.paragraph,
            custom_id=PASTE_FIELD,
            placeholder=PASTE_PLACEHOLDER,
            max_length=MAX_PASTE,
        )
        self.add_item(self.cards)


PASTE_PREFIX = "qp"


def paste_id(deck: str) -> str:
    """The paste form's custom_id: ``qp:<deck>``."""
    return f"{PASTE_PREFIX}:{deck}"


def parse_paste_id(custom_id: str) -> str:
    """The deck of a paste form's custom_id (checked again: it came back from Discord)."""
    prefix, _sep, deck = custom_id.partition(":")
    if prefix != PASTE_PREFIX or not deck:
        raise ExpiredAction("That form no longer works. Start again with /question paste.")
    return check_deck_name(deck)


FORM_PREFIX = "qf"


def form_id(draft: QuestionDraft, item_id: int | None) -> str:
    """The form's custom_id: all but the typed text (``qf:<id>:<kind>:<level>:<deck>``)."""
    return f"{FORM_PREFIX}:{item_id or 0}:{draft.kind}:{draft.difficulty}:{draft.deck}"


def parse_form_id(custom_id: str) -> tuple[int | None, str, str, str]:
    """(item id or None, kind, difficulty, deck) from :func:`form_id`."""
    parts = custom_id.split(":")
    if len(parts) != 5 or parts[0] != FORM_PREFIX or not parts[1].isdecimal():
        raise ExpiredAction("That form no longer works. Start again with /question add.")
    _prefix, number, kind, difficulty, deck = parts
    return (int(number) or None), kind, difficulty, deck


RETRY_PREFIX = "qr"


def retry_key(token: str) -> str:
    """The kept draft's key from an "Edit and retry" token ``qr:<key>``."""
    return token.partition(":")[2]


class Questions(commands.Cog):
    """The moderators' question bank."""

    question = app_commands.Group(
        name="question",
        description="Manage this server's own questions (moderators only)",
        guild_only=True,
    )

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.bank = bot.services.question_bank
        self.imports = bot.services.deck_import
        self.exports = bot.services.deck_export

    async def cog_load(self) -> None:
        """Route the list's Prev/Next buttons (``ql:<page>[:<deck>]``) and the forms here."""
        self.bot.register_button(LIST_TOKEN_PREFIX, self.on_list_button)
        self.bot.register_button(RETRY_PREFIX, self.on_retry_button)
        self.bot.register_form(FORM_PREFIX, self.on_form)
        self.bot.register_form(PASTE_PREFIX, self.on_paste)

    async def on_form(
        self, interaction: discord.Interaction[Any], custom_id: str, values: dict[str, str]
    ) -> None:
        """A submitted add/edit form (also one opened before a restart)."""
        item_id, kind, difficulty, deck = parse_form_id(custom_id)
        if item_id is not None:
            # The stored question supplies what the form has no room for (its code block).
            base = await self.bank.draft_for_edit(learner_for(interaction), item_id)
        else:
            base = QuestionDraft(
                deck=deck,
                kind=kind,
                difficulty=difficulty,
                question="",
                options="",
                answer="",
                explanation="",
            )
        draft = replace(
            base,
            difficulty=difficulty,
            question=values.get("question", ""),
            options=values.get("options", ""),
            answer=values.get("answer", ""),
            explanation=values.get("explanation", ""),
            practice=values.get("practice", ""),
            hint=values.get("hint", ""),
            concepts=values.get("concepts", ""),
            misconceptions=values.get("misconceptions", ""),
        )
        await self.save_draft(interaction, draft, item_id)

    async def on_paste(
        self, interaction: discord.Interaction[Any], custom_id: str, values: dict[str, str]
    ) -> None:
        """A submitted paste form (also one opened before a restart): import it, or none."""
        await ensure_moderator(self.bot, interaction)
        deck = parse_paste_id(custom_id)
        text = values.get(PASTE_FIELD, "")
        if not text.strip():
            raise BadInput("The box was empty. Paste your set with /question paste again.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.imports.import_text(learner_for(interaction), text, deck=deck)
        await self.send_import(interaction, result)

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    async def send_import(interaction: discord.Interaction[Any], result: ImportResult) -> None:
        """Follow up a deferred import with its reply and, when there is one, its report."""
        kwargs = render(result.reply).send_kwargs(ephemeral=True)
        if result.report is not None:
            kwargs["files"] = [_file(REPORT_FILENAME, result.report)]
        await interaction.followup.send(**kwargs)

    async def save_draft(
        self, interaction: discord.Interaction[Any], draft: QuestionDraft, item_id: int | None
    ) -> None:
        """Store a submitted form; a refused one is echoed back with an "Edit and retry".

        The refused text is kept in the database (a day), so the button still reopens the
        form after a restart.
        """
        await ensure_moderator(self.bot, interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        member = learner_for(interaction)
        try:
            if item_id is None:
                reply = await self.bank.add(member, draft)
            else:
                reply = await self.bank.edit(member, item_id, draft)
        except BadInput as error:
            key = await self.bank.keep_draft(member, draft, item_id)
            retry = Choice("retry", "Edit and retry", f"{RETRY_PREFIX}:{key}", ChoiceStyle.PRIMARY)
            reply = draft_problem_reply(draft, error.message).with_choices(retry)
        except TutorError as error:
            reply = draft_problem_reply(draft, error.message, retry=False)
        await interaction.followup.send(**render(reply).send_kwargs(ephemeral=True))

    async def on_retry_button(self, interaction: discord.Interaction[Any], token: str) -> None:
        """The "Edit and retry" button: reopen the refused form as typed (its owner only)."""
        await ensure_moderator(self.bot, interaction)
        draft, item_id = await self.bank.kept_draft(learner_for(interaction), retry_key(token))
        await interaction.response.send_modal(QuestionModal(self, draft, item_id))

    async def on_list_button(self, interaction: discord.Interaction[Any], token: str) -> None:
        """Prev/Next on a question list: check again, then replace the page."""
        await ensure_moderator(self.bot, interaction)
        page, deck = parse_list_token(token)
        work = self.bank.list_page(learner_for(interaction), page, deck)
        await self.bot.deliver(interaction, work, edit=True)

    # -- commands -------------------------------------------------------------------------

    @question.command(name="add")
    @app_commands.describe(
        deck="Deck to add to (a new name starts a new deck on this server)",
        difficulty="easy, medium or hard",
        kind="mcq (a quiz question), practice (hint, steps, mistakes) or explain "
        "(answered in own words)",
    )
    async def add(
        self,
        interaction: discord.Interaction[Any],
        deck: str,
        difficulty: Difficulty,
        kind: Kind = "mcq",
    ) -> None:
        """Add a question only this server sees (opens a form)."""
        await ensure_moderator(self.bot, interaction)
        name = check_deck_name(deck)
        draft = QuestionDraft(
            deck=name,
            kind=kind,
            difficulty=difficulty,
            question="",
            options="",
            answer="",
            explanation="",
        )
        await interaction.response.send_modal(QuestionModal(self, draft, None))

    @question.command(name="import")
    @app_commands.describe(
        file="An Anki .apkg/.colpkg, an Anki or Quizlet text export, a Red Trivia list, "
        "or our .csv/.yaml",
        deck="Put every question in this deck (default: the decks named in the file)",
        history="Keep the package's Anki review history as your own schedule",
    )
    async def import_file(
        self,
        interaction: discord.Interaction[Any],
        file: discord.Attachment,
        deck: str | None = None,
        history: bool = False,
    ) -> None:
        """Import a deck: all of its questions, or none if any is wrong."""
        await ensure_moderator(self.bot, interaction)
        if file.size > MAX_PACKAGE_BYTES:
            raise BadInput(package_too_big(file.size))
        if deck:
            check_deck_name(deck)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except discord.HTTPException as error:
            log.warning("could not download %s: %s", file.filename, error)
            raise BadInput("I couldn't download that file. Please send it again.") from error
        result = await self.imports.import_upload(
            learner_for(interaction), file.filename, data, deck=deck, history=history
        )
        await self.send_import(interaction, result)

    @question.command(name="paste")
    @app_commands.describe(deck="Deck to put the cards in (a new name starts a new deck)")
    async def paste(self, interaction: discord.Interaction[Any], deck: str) -> None:
        """Paste a Quizlet set (term, tab, definition on each line) into a form."""
        await ensure_moderator(self.bot, interaction)
        name = check_deck_name(deck)
        await interaction.response.send_modal(PasteModal(name))

    @question.command(name="accept")
    @app_commands.rename(item_id="id")
    @app_commands.describe(
        item_id="The typed question's #id (see /question list)",
        answer="Another answer to count as right",
    )
    async def accept(
        self,
        interaction: discord.Interaction[Any],
        item_id: app_commands.Range[int, 1],
        answer: app_commands.Range[str, 1, 200],
    ) -> None:
        """Accept another answer for a typed question."""
        await ensure_moderator(self.bot, interaction)
        work = self.bank.accept(learner_for(interaction), item_id, answer)
        await self.bot.deliver(interaction, work)

    @question.command(name="edit")
    @app_commands.rename(item_id="id")
    @app_commands.describe(
        item_id="The question's #id (see /question list)",
        difficulty="Change the difficulty too (optional)",
    )
    async def edit(
        self,
        interaction: discord.Interaction[Any],
        item_id: app_commands.Range[int, 1],
        difficulty: Difficulty | None = None,
    ) -> None:
        """Edit one of this server's questions (opens the form, filled in)."""
        await ensure_moderator(self.bot, interaction)
        draft = await self.bank.draft_for_edit(learner_for(interaction), item_id)
        if difficulty is not None:
            draft = replace(draft, difficulty=difficulty)
        await interaction.response.send_modal(QuestionModal(self, draft, item_id))

    @question.command(name="remove")
    @app_commands.rename(item_id="id")
    @app_commands.describe(item_id="The question's #id (see /question list)")
    async def remove(
        self, interaction: discord.Interaction[Any], item_id: app_commands.Range[int, 1]
    ) -> None:
        """Remove one of this server's questions (answers already given are kept)."""
        await ensure_moderator(self.bot, interaction)
        await self.bot.deliver(interaction, self.bank.remove(learner_for(interaction), item_id))

    @question.command(name="list")
    @app_commands.describe(deck="Only this deck (default: all of this server's questions)")
    async def list_questions(
        self, interaction: discord.Interaction[Any], deck: str | None = None
    ) -> None:
        """This server's own questions, 10 per page."""
        await ensure_moderator(self.bot, interaction)
        work = self.bank.list_page(learner_for(interaction), 0, deck)
        await self.bot.deliver(interaction, work)

    @question.command(name="export")
    @app_commands.describe(
        deck="Only this deck (default: every deck with server questions)",
        format="yaml (default, re-importable), csv, apkg (Anki), quizlet or red (Red Trivia)",
    )
    async def export(
        self,
        interaction: discord.Interaction[Any],
        deck: str | None = None,
        format: ExportFormat = "yaml",
    ) -> None:
        """Download this server's questions as files you can edit or open in other apps."""
        await ensure_moderator(self.bot, interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.exports.export(learner_for(interaction), deck, format)
        kwargs = render(result.reply).send_kwargs(ephemeral=True)
        kwargs["files"] = [
            discord.File(io.BytesIO(f.data), filename=f.filename) for f in result.files
        ]
        await interaction.followup.send(**kwargs)

    @question.command(name="stats")
    @app_commands.rename(item_id="id")
    @app_commands.describe(item_id="The question's #id (see /question list)")
    async def stats(
        self, interaction: discord.Interaction[Any], item_id: app_commands.Range[int, 1]
    ) -> None:
        """How members here answer a question; flags a likely wrong answer key."""
        await ensure_moderator(self.bot, interaction)
        await self.bot.deliver(interaction, self.bank.stats(learner_for(interaction), item_id))

    add.autocomplete("deck")(deck_autocomplete)
    import_file.autocomplete("deck")(deck_autocomplete)
    paste.autocomplete("deck")(deck_autocomplete)
    list_questions.autocomplete("deck")(deck_autocomplete)
    export.autocomplete("deck")(deck_autocomplete)


async def setup(bot: TutorBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(Questions(bot))
