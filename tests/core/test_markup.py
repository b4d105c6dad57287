"""Anki field HTML into Discord markdown, markdown escaping and cloze deletions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.markup import (
    cloze_card,
    cloze_numbers,
    escape_markdown,
    html_to_markdown,
    html_to_plain,
    remove_sounds,
    text_to_html,
    unescape_markdown,
)

# --------------------------------------------------------------------------- HTML


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<b>bold</b> and <strong>strong</strong>", "**bold** and **strong**"),
        ("<i>it</i> <em>em</em>", "*it* *em*"),
        (
            "<u>under</u> <s>gone</s> <strike>old</strike> <del>x</del>",
            "__under__ ~~gone~~ ~~old~~ ~~x~~",
        ),
        ("a <b> b </b>c", "a **b** c"),  # spaces move outside the markers
        ("<b></b>empty<i> </i>", "empty"),  # no empty markers
        ("<b><b>x</b></b>", "**x**"),
        ("<b><i>x</b></i> y", "***x*** y"),
        ("<b>never closed", "**never closed**"),
        ("</b>stray close", "stray close"),
        ("<b>a<br></b>b", "**a**\nb"),  # the marker closes before the line break
        (
            "<span style='font-weight: bold'>S</span> <span style=\"font-style:italic\">I</span>",
            "**S** *I*",
        ),
        ("<span style='color: red'>plain</span>", "plain"),
        ("<h2>Title</h2>text", "**Title**\n\ntext"),
        ("un<b>believ</b>able", "un**believ**able"),
    ],
)
def test_formatting_becomes_discord_markers(html: str, markdown: str) -> None:
    assert html_to_markdown(html).text == markdown


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<div>a</div><div>b</div>", "a\nb"),
        ("<div>a</div><div><br></div><div>b</div>", "a\n\nb"),
        ("a<br>b<br/>c<BR>d", "a\nb\nc\nd"),
        ("a<br><br><br><br>b", "a\n\nb"),  # at most one blank line
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<br><div></div>  lead <br> ", "lead"),
        ("a\n  b\t\tc", "a b c"),  # whitespace in HTML is one space
        ("a&nbsp;&nbsp;b", "a b"),
        ("<div><div><div>deep</div></div></div>next", "deep\nnext"),
        ("a<hr>b", "a\nb"),
        ("<table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table>", "1 2\n3"),
    ],
)
def test_blocks_and_breaks_become_lines(html: str, markdown: str) -> None:
    assert html_to_markdown(html).text == markdown


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<ul><li>one</li><li>two</li></ul>", "• one\n• two"),
        ("<ol><li>first</li><li> second</li></ol>", "1. first\n2. second"),
        (
            "<ul><li>a<ol><li>x</li><li>y</li></ol></li><li>b</li></ul>after",
            "• a\n  1. x\n  2. y\n• b\nafter",
        ),
        ("before<ul><li>item</li></ul>", "before\n• item"),
        ("<li>loose item</li>", "• loose item"),
    ],
)
def test_lists_become_bullets_and_numbers(html: str, markdown: str) -> None:
    assert html_to_markdown(html).text == markdown


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<code>x = 1</code>", "`x = 1`"),
        ("<code>a_b*c</code>", "`a_b*c`"),  # nothing escaped inside code
        ("<code>x `y` z</code>", "`` x `y` z ``"),
        ("<code><b>no bold</b></code>", "`no bold`"),
        ("<pre>def f():\n    return 1</pre>tail", "```\ndef f():\n    return 1\n```\ntail"),
        ("text<pre>\nkept  spaces\n\n\n\nend</pre>", "text\n```\nkept  spaces\n\n\n\nend\n```"),
        ("<pre>a<br>b</pre>", "```\na\nb\n```"),
        ("<pre>x ``` y</pre>", "```\nx `\u200b`` y\n```"),
        ("<pre>never closed", "```\nnever closed\n```"),
    ],
)
def test_code_is_kept_as_written(html: str, markdown: str) -> None:
    assert html_to_markdown(html).text == markdown


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("x &amp; y &lt;tag&gt; &quot;q&quot; &#39;s &#x2713; &eacute;", 'x & y <tag> "q" \'s ✓ é'),
        ("a_b*c~d|e`f\\g", "a\\_b\\*c\\~d\\|e\\`f\\\\g"),
        ("> not a quote", "\\> not a quote"),
        ("<div># not a heading</div><div>-# not small</div>", "\\# not a heading\n\\-# not small"),
        ("a > b # c", "a > b # c"),  # only at a line start
        ("<b>> inside</b>", "**> inside**"),
        ("<script>alert(1)</script>ok<style>p {color: red}</style>", "ok"),
        ("<SCRIPT>never closed", ""),
        ("<!-- a comment -->text<!DOCTYPE html>", "text"),
        ('<a href="https://x.org">link</a> <font color="red">red</font>', "link red"),
        ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
        ("a <b class='x' data-y=\"1 > 0\">b</b>", "a **b**"),
    ],
)
def test_text_is_unescaped_and_markdown_escaped(html: str, markdown: str) -> None:
    assert html_to_markdown(html).text == markdown


def test_pictures_are_listed_not_shown() -> None:
    converted = html_to_markdown(
        'Bird<img src="robin.jpg"> <img src=\'b&amp;w.png\'><img src="robin.jpg">'
        '<img src="data:image/png;base64,AAAA"><img alt="no source">'
    )
    assert converted.text == "Bird"
    assert converted.images == ("robin.jpg", "b&w.png")


def test_sounds_are_removed_and_counted() -> None:
    converted = html_to_markdown("[sound:a.mp3]Say it[sound:b c.mp3]")
    assert (converted.text, converted.sounds) == ("Say it", 2)
    assert remove_sounds("x [sound:y.ogg] z") == ("x  z", 1)
    assert html_to_plain("<b>[sound:a.mp3]</b>").sounds == 1


def test_plain_text_has_no_markers_or_escapes() -> None:
    html = "<b>a_b</b> <i>*c*</i><br><code>d</code> &amp; <ul><li>e</li></ul>"
    assert html_to_plain(html).text == "a_b *c*\nd &\n• e"
    assert html_to_plain("<pre>x\n  y</pre>").text == "x\n  y"


def test_text_to_html_round_trips_plain_text() -> None:
    text = "a < b & c\nnext *line*"
    assert html_to_plain(text_to_html(text)).text == text
    assert html_to_markdown(text_to_html(text)).text == "a < b & c\nnext \\*line\\*"


# --------------------------------------------------------------------------- escaping


@given(st.text(alphabet=st.sampled_from("ab \n\\*_`~|>#-:"), max_size=40))
def test_escaping_round_trips(text: str) -> None:
    assert unescape_markdown(escape_markdown(text)) == text


@given(st.text(alphabet=st.sampled_from("ab*_`~|\\>#-"), min_size=1, max_size=30))
def test_plain_field_text_is_escaped_like_escape_markdown(text: str) -> None:
    words = " ".join(text.split())
    assert html_to_markdown(text).text == escape_markdown(words)
    assert unescape_markdown(html_to_markdown(text).text) == words


def test_escape_markdown_examples() -> None:
    assert escape_markdown("a_b\n> q\n#h\n-# s\nx-#") == "a\\_b\n\\> q\n\\#h\n\\-# s\nx-#"


# --------------------------------------------------------------------------- cloze


def test_cloze_numbers_in_order_once() -> None:
    assert cloze_numbers("{{c2::a}} {{c1::b}} {{c2::c}} {{c10::d}}") == [1, 2, 10]
    assert cloze_numbers("no deletions {{c1:: never closed") == []
    assert cloze_numbers("{{c0::zero}}") == [1]  # Anki reads c0 as card 1


def test_cloze_hides_one_number_and_shows_the_others() -> None:
    text = "{{c1::Paris}} is the capital of {{c2::France}}"
    assert cloze_card(text, 1) == ("[…] is the capital of France", ["Paris"])
    assert cloze_card(text, 2) == ("Paris is the capital of […]", ["France"])


def test_cloze_hint_is_shown_in_brackets() -> None:
    question, answers = cloze_card("Capital: {{c1::Paris::city}}, {{c1::Lyon:: }}", 1)
    assert question == "Capital: [city], […]"
    assert answers == ["Paris", "Lyon"]


def test_cloze_same_number_twice_gives_every_answer() -> None:
    assert cloze_card("{{c1::a}} and {{c1::b}} and {{c2::c}}", 1) == (
        "[…] and […] and c",
        ["a", "b"],
    )


def test_nested_cloze() -> None:
    text = "{{c1::outer {{c2::inner}} end}} tail"
    assert cloze_card(text, 1) == ("[…] tail", ["outer inner end"])
    assert cloze_card(text, 2) == ("outer […] end tail", ["inner"])
    assert cloze_numbers(text) == [1, 2]


@pytest.mark.parametrize(
    ("text", "question", "answers"),
    [
        ("f(x) = {{c1::{x}}}!", "f(x) = […]}!", ["{x"]),  # Anki closes at the first }}
        ("set {a} {{c1::b}}", "set {a} […]", ["b"]),
        ("stray }} and {{c1::x}}", "stray }} and […]", ["x"]),
        ("{{c1::open {{c2::x}} never closed", "{{c1::open […] never closed", ["x"]),
        ("{{c1::a::hint::more}}", "[hint::more]", ["a"]),
        ("{{c1::<b>bold</b>}} text", "[…] text", ["<b>bold</b>"]),
    ],
)
def test_cloze_edge_cases(text: str, question: str, answers: list[str]) -> None:
    shown, hidden = cloze_card(text, max(cloze_numbers(text), default=1))
    assert (shown, hidden) == (question, answers)


def test_a_missing_cloze_number_has_no_answers() -> None:
    assert cloze_card("{{c1::a}}", 3) == ("a", [])
