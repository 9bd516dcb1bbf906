"""Search snippets: the words the query matches, found by stemming as
PostgreSQL's english configuration does, highlighted in escaped text."""

import pytest
from django.db import connection

from stories.search import _candidates, _spans, highlight, query_lexemes
from tests.stories.factories import StoryFactory


def test_words_stemming_to_a_lexeme_are_marked_whatever_their_ending():
    html = highlight("Studies of happy skies: a study.", frozenset({"studi", "happi"}))
    assert html == (
        "<mark>Studies</mark> of <mark>happy</mark> skies: a <mark>study</mark>."
    )


def test_a_word_sharing_only_a_beginning_is_not_marked():
    html = highlight("The governor and the government.", frozenset({"govern"}))
    assert html == "The governor and the <mark>government</mark>."


def test_the_text_is_escaped_around_the_marks():
    html = highlight("<b>Tax</b> & spend", frozenset({"tax"}))
    assert html == "&lt;b&gt;<mark>Tax</mark>&lt;/b&gt; &amp; spend"


def test_two_fragments_around_distant_matches_are_joined_by_an_ellipsis():
    filler = " ".join(["word"] * 60)
    html = highlight(
        f"Start {filler} budget {filler} budget end", frozenset({"budget"})
    )
    first, second = html.split(" \u2026 ")
    assert "<mark>budget</mark>" in first and "<mark>budget</mark>" in second
    assert not html.startswith("Start") and len(html) < 400


def test_without_a_match_in_the_text_its_beginning_is_shown():
    text = "A summary that matched by its headline. " * 20
    html = highlight(text, frozenset({"zebra"}))
    assert html.startswith("A summary that") and "<mark>" not in html
    assert len(html) < len(text)


def test_negated_words_of_the_query_are_not_highlighted():
    assert query_lexemes("'govern' & !'tax' & 'o''brien'") == {"govern", "o'brien"}


def test_a_one_letter_lexeme_is_marked():
    html = highlight("Plan B, then plan b-2.", frozenset({"b"}))
    assert html == "Plan <mark>B</mark>, then plan <mark>b</mark>-2."


@pytest.mark.parametrize(
    ("text", "lexemes"),
    [
        ("Undefended defences; DEFENCE-spending", {"defenc", "spend"}),
        ("swell-known, well-known and Known", {"well-known", "known"}),
        ("x-ray X_1 2x x", {"x"}),
        ("O'Brien's obrien o'brien", {"o'brien", "brien"}),
        ("Caf\u00e9 caf\u00c9 CAFE", {"caf\u00e9"}),
        ("\u017ftate of the state", {"state"}),
    ],
)
def test_ascii_text_is_searched_lower_cased_as_the_pattern_finds_it(text, lexemes):
    """The fast path (lower() and a case-sensitive pattern without \\b)
    finds the words the case-insensitive pattern does."""
    lexemes = frozenset(lexemes)
    pattern, _ = _candidates(lexemes)
    expected = [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
    assert list(_spans(text, lexemes)) == expected


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL search")
def test_a_search_page_marks_the_stemmed_words_of_its_results(client):
    StoryFactory(
        headline="Parliament votes",
        summary="Lawmakers studied the budgets of every ministry.",
        published=True,
    )
    html = client.get("/search/", {"q": "budget studies"}).content.decode()
    assert "<mark>studied</mark> the <mark>budgets</mark>" in html
