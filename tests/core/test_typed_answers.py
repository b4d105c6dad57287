"""The forgiving checker of typed answers: folding, numbers, typos and what it returns."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.typed_answers import (
    TypedCheck,
    check_typed,
    normalize_answer,
    typo_allowance,
)


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("gradient", "gradient"),
        ("GRADIENT", "gradient"),
        ("  Gradient  ", "gradient"),
        ("gradient descent", "Gradient   descent"),
        ("gradient-descent", "gradient descent"),
        ("gradientdescent", "gradient descent"),
        ("gradient descent!", "gradient descent"),
        ("Café", "cafe"),
        ("cafe", "Café"),
        ("STRASSE", "Straße"),
        ("naive", "naïve"),
        ("the mitochondria", "Mitochondria"),
        ("mitochondria", "The mitochondria"),
        ("an apple", "apple"),
        ("a", "A"),
        ("the", "The"),
        ("dont", "don't"),
        ("don’t", "don't"),
        ("rock and roll", "rock & roll"),
        ("ﬁsh", "fish"),
        ("?", "?"),
        ("1/2", "1/2"),
        ("1 / 2", "1/2"),
        ("Apollo 11", "apollo 11"),
    ],
)
def test_folding_makes_these_exact(typed: str, accepted: str) -> None:
    assert check_typed(typed, [accepted]) == TypedCheck(correct=True, exact=True, matched=accepted)


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("der Hund", "die Hund"),  # other languages' articles are the point in a language deck
        ("Angeles", "Los Angeles"),
        ("12", "1/2"),  # numbers stay apart
        ("mitochondria", "mitochondria cell"),
        ("", "answer"),
        ("   ", "answer"),
        ("???", "answer"),
    ],
)
def test_folding_keeps_these_apart(typed: str, accepted: str) -> None:
    assert check_typed(typed, [accepted]) == TypedCheck(correct=False, exact=False, matched=None)


def test_normalize_answer() -> None:
    assert normalize_answer("  The Café-au-lait! ") == "cafeaulait"
    assert normalize_answer("Apollo 11") == "apollo11"
    assert normalize_answer("1 2") == "1 2"
    assert normalize_answer("The") == "the"
    assert normalize_answer("?!") == "?!"


@pytest.mark.parametrize(
    ("length", "allowed"), [(1, 0), (3, 0), (4, 0), (5, 1), (8, 1), (9, 2), (40, 2)]
)
def test_typo_allowance_grows_with_length(length: int, allowed: int) -> None:
    assert typo_allowance(length) == allowed


@pytest.mark.parametrize(
    ("typed", "accepted", "typos"),
    [
        ("gradiant", "gradient", 1),  # 8 letters: one edit
        ("gradinet", "gradient", 1),  # a swap of neighbours is one edit
        ("gradent", "gradient", 1),
        ("Pariss", "Paris", 1),  # 5 letters: one edit
        ("photosynthesys", "photosynthesis", 1),
        ("fotosynthesis", "photosynthesis", 2),  # 14 letters: two edits
        ("Apolo 11", "Apollo 11", 1),
        ("meters", "metres", 1),
    ],
)
def test_small_typos_are_close_enough(typed: str, accepted: str, typos: int) -> None:
    assert check_typed(typed, [accepted]) == TypedCheck(
        correct=True, exact=False, matched=accepted, typos=typos
    )


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("Roma", "Rome"),  # 4 letters: no typo
        ("cat", "bat"),
        ("gradeint dscnt", "gradient descent"),  # three edits in 15 letters
        ("gradxyzt", "gradient"),
        ("fotosyntesis", "photosynthesis"),  # three edits
        ("Apollo 12", "Apollo 11"),  # digits are never a typo
        ("Apollo 1", "Apollo 11"),
        ("Route 67", "Route 66"),
    ],
)
def test_bigger_typos_and_other_digits_are_wrong(typed: str, accepted: str) -> None:
    assert not check_typed(typed, [accepted]).correct


def test_an_exact_match_wins_over_an_earlier_close_one() -> None:
    # "bear" is a typo away from "beer" ... but only 4 letters; use longer words.
    accepted = ["stationery", "stationary"]
    assert check_typed("stationary", accepted) == TypedCheck(
        correct=True, exact=True, matched="stationary"
    )
    assert check_typed("stationery", accepted).matched == "stationery"


def test_the_nearest_accepted_answer_is_named_and_ties_go_to_the_first() -> None:
    accepted = ["backpropagation", "backprop"]
    assert check_typed("backpropogation", accepted).matched == "backpropagation"
    assert check_typed("bakcprop", accepted) == TypedCheck(
        correct=True, exact=False, matched="backprop", typos=1
    )
    # Equally near to both: the first listed is named.
    assert check_typed("abcdefgx", ["abcdefgh", "abcdefgy"]).matched == "abcdefgh"


def test_no_accepted_answers_means_wrong() -> None:
    assert not check_typed("anything", []).correct


# -- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("0.5", "0.5"),
        (".5", "0.5"),
        ("0,5", "0.5"),
        ("0.50", "0.5"),
        ("3,14", "3.14"),
        ("1,000", "1000"),
        ("1000", "1,000"),
        ("1 000", "1000"),
        ("1\u202f000", "1000"),
        ("12,345.5", "12345.5"),
        ("+5", "5"),
        ("-5", "-5"),
        ("\u22125", "-5"),  # the minus sign
        ("$5", "5"),
        ("5", "€5"),
        ("5kg", "5 kg"),
        ("5 KG", "5 kg"),
        ("5 kgs", "5 kg"),
        ("50%", "50 %"),
        ("50 percent", "50%"),
        ("5 km/h", "5 km h"),
        ("５", "5"),  # a full-width digit
        ("5.", "5"),
    ],
)
def test_numbers_compare_by_value(typed: str, accepted: str) -> None:
    assert check_typed(typed, [accepted]) == TypedCheck(correct=True, exact=True, matched=accepted)


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("15", "16"),
        ("5", "-5"),
        ("0.5", "0.05"),
        ("1.5", "15"),
        ("0,500", "500"),  # "0," starts a decimal comma
        ("5 g", "5 kg"),
        ("100 kph", "100 mph"),  # units are not typos of each other
        ("1e3", "1000"),
        ("1/2", "0.5"),  # fractions only when the author allows them
        ("2", "1/2"),
    ],
)
def test_numbers_that_differ_are_wrong(typed: str, accepted: str) -> None:
    assert not check_typed(typed, [accepted]).correct


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("1/2", "0.5"),
        ("1 / 2", "0.5"),
        ("2/4", "0.5"),
        ("½", "0.5"),
        ("1 1/2", "1.5"),
        ("-1/4", "-0.25"),
        ("0.5", "1/2"),
        ("3/4 cup", "0.75 cup"),
    ],
)
def test_fractions_are_numbers_when_allowed(typed: str, accepted: str) -> None:
    assert check_typed(typed, [accepted], fractions=True) == TypedCheck(
        correct=True, exact=True, matched=accepted
    )


def test_a_fraction_by_zero_is_not_a_number() -> None:
    assert not check_typed("1/0", ["0"], fractions=True).correct
    assert check_typed("1/0", ["1/0"], fractions=True).exact


@pytest.mark.parametrize(("typed", "accepted"), [("5", "5 kg"), ("5 kg", "5"), ("7", "7 days")])
def test_a_unit_on_one_side_only_is_close_enough(typed: str, accepted: str) -> None:
    assert check_typed(typed, [accepted]) == TypedCheck(
        correct=True, exact=False, matched=accepted, typos=0
    )


def test_a_unit_typo_is_close_enough() -> None:
    assert check_typed("5 meters", ["5 metres"]) == TypedCheck(
        correct=True, exact=False, matched="5 metres", typos=1
    )


def test_an_exact_number_wins_over_a_missing_unit() -> None:
    assert check_typed("5", ["5 kg", "5"]) == TypedCheck(correct=True, exact=True, matched="5")


# -- properties -----------------------------------------------------------------------------

_WORD_CHARS = st.characters(
    categories=("Lu", "Ll", "Nd"), exclude_characters="ıİ", max_codepoint=0x2FF
)
_WORDS = st.lists(st.text(_WORD_CHARS, min_size=1, max_size=8), min_size=1, max_size=4)
_ANSWER = _WORDS.map(" ".join)
_ACCEPTED = st.lists(
    st.text(
        st.characters(categories=("L", "N", "P", "S", "Zs"), max_codepoint=0x2FF),
        min_size=1,
        max_size=30,
    ).filter(str.strip),
    min_size=1,
    max_size=5,
)


@given(_ACCEPTED, st.data(), st.booleans())
def test_an_accepted_answer_typed_as_written_is_always_exact(
    accepted: list[str], data: st.DataObject, fractions: bool
) -> None:
    answer = data.draw(st.sampled_from(accepted))
    result = check_typed(answer, accepted, fractions=fractions)
    assert result.correct and result.exact and result.matched is not None


@given(_ANSWER, st.lists(st.sampled_from([" ", "  ", "\t", " \n "]), min_size=5, max_size=5))
def test_case_and_whitespace_never_matter(answer: str, spaces: list[str]) -> None:
    words = answer.split()
    varied = spaces[0] + spaces[1].join(w.upper() for w in words) + spaces[2]
    assert check_typed(varied, [answer]) == TypedCheck(correct=True, exact=True, matched=answer)
    assert check_typed(answer.swapcase(), [answer]).exact


@given(st.integers(), st.integers())
def test_different_whole_numbers_never_match(typed: int, accepted: int) -> None:
    assume(typed != accepted)
    assert not check_typed(str(typed), [str(accepted)]).correct
    assert not check_typed(f"{typed:,}", [str(accepted)], fractions=True).correct


@given(
    st.text(st.sampled_from(string.ascii_lowercase), min_size=6, max_size=20),
    st.integers(min_value=0),
    st.integers(min_value=0),
)
def test_digits_are_never_fuzzed(word: str, number: int, other: int) -> None:
    assume(number != other)
    accepted = f"{word} {number}"
    assert check_typed(accepted, [accepted]).exact
    assert not check_typed(f"{word} {other}", [accepted]).correct
    assert not check_typed(f"{word[1:]} {other}", [accepted]).correct


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_thousands_separators_are_the_same_number(value: int) -> None:
    assert check_typed(f"{value:,}", [str(value)]).exact
    assert check_typed(str(value), [f"{value:,}"]).exact


@given(
    st.text(st.sampled_from(string.ascii_lowercase), min_size=1, max_size=20),
    st.text(st.sampled_from(string.ascii_lowercase), min_size=1, max_size=20),
)
def test_a_forgiven_answer_is_within_its_allowance(typed: str, accepted: str) -> None:
    result = check_typed(typed, [accepted])
    if result.correct and not result.exact:
        assert 0 < result.typos <= typo_allowance(len(normalize_answer(accepted)))
    if len(accepted) <= 4:
        assert result.correct == (typed == accepted)
