import functools
import json
from pathlib import Path

import pytest

from entities.models import Entity
from stories.explainer_format import (
    MAX_DOCUMENT_BYTES,
    MalformedDocument,
    find_outlet_mentions,
    parse,
    split_sentences,
    whole_sentences,
)
from stories.text import name_key
from tests.stories.explainers import MINIMAL, SEED, document


@pytest.mark.skipif(
    not SEED.exists(), reason="the shared seed is only on dev and CI machines"
)
def test_seed_parses_into_every_part_of_the_format():
    parsed = parse(SEED.read_bytes())
    assert parsed.summary.startswith("U.S. officials, including Hegseth")
    assert [s.heading for s in parsed.sections] == [
        "Strategic Shift in Japan's Defense Policy",
        "U.S.-Japan Alliance Reinforced",
        "Regional Security Dynamics",
        "Political and Strategic Implications",
        "Future Outlook",
    ]
    assert len(parsed.papers) == 3
    assert parsed.background[0].startswith("Recent regional tensions")
    assert [q.question for q in parsed.questions] == [
        "Why Is Japan Increasing Its Military Budget Now?"
    ]
    assert [t.name for t in parsed.topics] == [
        "Peter Brian Hegseth",
        "Sanae Takaichi",
        "Donald John Trump",
        "Japan",
    ]


@pytest.mark.skipif(
    not SEED.exists(), reason="the shared seed is only on dev and CI machines"
)
def test_seed_blurb_cut_off_mid_word_keeps_only_whole_sentences():
    hegseth = parse(SEED.read_bytes()).topics[0]
    assert hegseth.was_truncated
    assert hegseth.paragraphs[-1].endswith("secretary of defense.")
    assert "publi" not in " ".join(hegseth.paragraphs)


def test_several_questions_each_introduced_by_a_dash():
    parsed = parse(document("brazil_amazon.txt"))
    assert [q.question for q in parsed.questions] == [
        "How would a forest fund actually pay countries?",
        "Is this different from carbon credits?",
    ]
    assert len(parsed.questions[0].paragraphs) == 2


def test_non_ascii_names_and_sections_with_several_paragraphs():
    parsed = parse(document("brazil_amazon.txt"))
    assert parsed.topics[0].name == "Luiz Inácio Lula da Silva"
    assert parsed.sections[0].paragraphs[1].startswith("Critics argue")
    assert parsed.sections[1].heading == "Who pays and who benefits?"


def test_truncated_last_blurb_drops_the_unfinished_sentence():
    brazil = parse(document("brazil_amazon.txt")).topics[-1]
    assert brazil.paragraphs == [
        "Brazil is the largest country in South America and home to most of the "
        "Amazon rainforest."
    ]


def test_crlf_line_endings_parse_like_lf():
    crlf = MINIMAL.replace("\n", "\r\n").encode()
    assert parse(crlf).sections == parse(MINIMAL.encode()).sections
    assert parse(crlf).checksum == parse(MINIMAL.encode()).checksum


def test_curly_apostrophes_in_headings_are_accepted():
    parsed = parse(MINIMAL.replace("What's", "What\u2019s").encode())
    assert parsed.summary == "A thing happened."


def test_very_long_sections_parse():
    long_paragraph = " ".join(["This sentence adds length to the analysis."] * 2000)
    text = MINIMAL.replace("Because of reasons.", long_paragraph)
    assert parse(text.encode()).sections[0].paragraphs == [long_paragraph]


@pytest.mark.parametrize(
    ("raw", "message", "line"),
    [
        (b"", "empty", None),
        (b"\n \n", "empty", None),
        (document("not_utf8.txt"), "not valid UTF-8", 2),
        (
            document("malformed_order.txt"),
            "\u201cWhat's behind the headline?\u201d is missing or out of order",
            3,
        ),
        (document("malformed_question.txt"), "has no answer", 13),
        (
            MINIMAL.replace("How we got here\n", "").encode(),
            "\u201cHow we got here\u201d is missing",
            9,
        ),
        (
            MINIMAL.split("More on these topics")[0].encode(),
            "missing the heading \u201cMore on these topics\u201d",
            14,
        ),
        (("Intro line\n" + MINIMAL).encode(), "text before the first heading", 1),
        (
            MINIMAL.replace(
                "A thing happened.\n", "A thing happened.\nWhat's happened\n"
            ).encode(),
            "appears twice",
            3,
        ),
        (
            MINIMAL.replace("Why it matters\n", "").encode(),
            "expected a section title",
            4,
        ),
        (
            MINIMAL.replace("Because of reasons.", "Because of\x00reasons.").encode(),
            "control character",
            5,
        ),
        (MINIMAL.replace("A thing happened.\n", "").encode(), "has no text", 1),
    ],
)
def test_malformed_documents_are_refused_with_the_line(raw, message, line):
    with pytest.raises(MalformedDocument) as caught:
        parse(raw)
    assert message in caught.value.message
    assert caught.value.line == line


def test_huge_file_is_refused():
    raw = MINIMAL.encode() + b"x" * MAX_DOCUMENT_BYTES
    with pytest.raises(MalformedDocument, match="limit"):
        parse(raw)


def test_sentences_are_not_split_after_abbreviations():
    assert split_sentences("The U.S. Army left. Mr. Smith stayed. Then rain!") == [
        "The U.S. Army left.",
        "Mr. Smith stayed.",
        "Then rain!",
    ]


def test_whole_sentences_leaves_complete_text_alone():
    assert whole_sentences(["One. Two."]) == (["One. Two."], False)


def test_outlet_mentions_collect_sentences_and_report_unknown_outlets():
    outlets = {
        "reuters": "Reuters",
        "folha de s paulo": "Folha",
        "le monde": "Le Monde",
        "el pais": "El País",
    }
    from stories.text import name_key

    mentions = find_outlet_mentions(
        parse(document("brazil_amazon.txt")).papers, lambda n: outlets.get(name_key(n))
    )
    assert list(mentions.sentences) == ["Reuters", "Folha", "Le Monde", "El País"]
    assert mentions.sentences["Le Monde"] == [
        "Reuters and Folha de S.Paulo both reported the size of the first pledges, "
        "while Le Monde focused on the doubts of European donors."
    ]
    assert mentions.unmatched == ["The Daily Planet"]


REGISTRY = Path(__file__).resolve().parents[2] / "stories" / "data" / "outlets.json"


@functools.cache
def registry() -> dict:
    """Outlet names by the key of each name and short form, as the importer
    looks them up."""
    by_key = {}
    for outlet in json.loads(REGISTRY.read_text()):
        for name in [outlet["name"], *outlet["short_forms"]]:
            by_key.setdefault(name_key(name), outlet["name"])
    return by_key


def outlets_in(*paragraphs):
    return find_outlet_mentions(list(paragraphs), lambda n: registry().get(name_key(n)))


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed is only on dev and CI")
def test_seed_names_exactly_its_four_outlets_in_the_real_registry():
    mentions = outlets_in(*parse(SEED.read_bytes()).papers)
    assert list(mentions.sentences) == [
        "The Japan Times",
        "The Independent",
        "South China Morning Post",
        "Bloomberg News",
    ]
    assert mentions.unmatched == []


@pytest.mark.parametrize(
    "text",
    [
        "Delegates of the North Atlantic Treaty Organization met in a rented hall.",
        "Aides on Capitol Hill drafted a compromise overnight.",
        "Iran's Guardian Council rejected the candidate list.",
        "The National Guard was sent to the flooded towns.",
        "Star Wars fans queued outside the cinema for days.",
        "Time will tell whether the truce holds.",
        "Dawn raids on three warehouses turned up nothing.",
        "Independent analysts say the budget is far too thin.",
    ],
)
def test_outlet_names_inside_longer_names_or_ordinary_words_are_not_outlets(text):
    assert outlets_in(text).sentences == {}


def test_outlet_names_after_openers_or_with_the_context_of_an_outlet_match():
    mentions = outlets_in(
        "Meanwhile Reuters reported a late amendment. While The Hill counted votes, "
        "the Guardian looked at the cost. Dawn, a daily in Karachi, said little. "
        "Stories from Time and Forbes followed. AFP and SCMP ran it on the front page."
    )
    assert list(mentions.sentences) == [
        "Reuters",
        "The Hill",
        "The Guardian",
        "Dawn",
        "Time",
        "Forbes",
        "Agence France-Presse",
        "South China Morning Post",
    ]


def test_outlet_names_in_any_script_and_with_lower_case_words_match():
    mentions = outlets_in(
        "Česká televize opened its bulletin with the strike, and ČTK carried the "
        "union's statement. 1News reported a smaller protest in Wellington."
    )
    assert list(mentions.sentences) == [
        "Česká televize",
        "Česká tisková kancelář",
        "1News",
    ]


def test_people_who_speak_are_not_reported_as_unknown_outlets():
    mentions = outlets_in(
        "Trump said the talks went well, and Sanae Takaichi noted the progress. "
        "The Harbour Gazette wrote that the deal was rushed; Coast Times reported "
        "the same. Articles from Gull Bay Beacon and Reuters disagreed."
    )
    assert mentions.unmatched == [
        "The Harbour Gazette",
        "Coast Times",
        "Gull Bay Beacon",
    ]
    assert list(mentions.sentences) == ["Reuters"]


def test_section_titles_are_told_from_short_paragraphs():
    sections = parse(document("harbour_titles.txt")).sections
    assert [s.heading for s in sections] == [
        "Why the port looks to the U.S.",
        "Who pays for the dredging?",
    ]
    assert sections[0].paragraphs[1:] == [
        'She called the vote "a turning point."',
        'The mayor: "We cannot wait"',
        "Harbour pilots were not consulted. Their union wants a seat on the board",
    ]
    assert sections[1].paragraphs[-1] == "The rest is still unclear"


def test_a_lone_section_title_without_text_is_still_refused():
    raw = MINIMAL.replace("Because of reasons.\n", "").encode()
    with pytest.raises(MalformedDocument, match="has no text") as caught:
        parse(raw)
    assert caught.value.line == 4


def test_questions_and_blurbs_may_repeat_earlier_headings():
    parsed = parse(document("harbour_titles.txt"))
    assert [q.question for q in parsed.questions] == [
        "What's happened?",
        "How we got here?",
    ]
    assert parsed.topics[0].paragraphs == [
        "The Harbour Authority is the public body that runs the port.",
        "What the papers say",
        "Its board meets once a month.",
    ]


@pytest.mark.parametrize(
    ("paragraphs", "kept"),
    [
        (["She called it \u2018final.\u2019"], ["She called it \u2018final.\u2019"]),
        (["It was late (again?)"], ["It was late (again?)"]),
        (["The talks ended [abruptly!]"], ["The talks ended [abruptly!]"]),
        (
            ["He said \u2018enough.\u2019 Then the meeting bro"],
            ["He said \u2018enough.\u2019"],
        ),
    ],
)
def test_sentences_may_end_inside_quotes_and_brackets(paragraphs, kept):
    assert whole_sentences(paragraphs)[0] == kept


@pytest.mark.parametrize("character", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e"])
def test_control_characters_that_splitlines_treats_as_breaks_are_refused(character):
    text = MINIMAL.replace("Because of reasons.", f"Because{character}of reasons.")
    raw = text.encode()
    with pytest.raises(MalformedDocument, match="control character") as caught:
        parse(raw)
    assert caught.value.line == 5


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029"])
def test_unicode_line_separators_are_read_as_spaces(separator):
    text = MINIMAL.replace("Because of reasons.", f"Because of{separator}reasons.")
    assert parse(text.encode()).sections[0].paragraphs == ["Because of reasons."]
    with pytest.raises(MalformedDocument, match="has no answer") as caught:
        parse(text.replace("Nobody knows yet.\n", "").encode())
    assert caught.value.line == 13


@pytest.mark.django_db
def test_topic_named_with_the_matches_an_entity_named_without_it():
    from stories.services import import_explainer

    existing = Entity.objects.create(name="Harbour Authority")
    raw = MINIMAL.replace(
        "Japan is an island country.",
        "The Harbour Authority is the public body that runs an invented port.",
    ).encode()
    assert parse(raw).topics[0].name == "The Harbour Authority"
    story = import_explainer(raw=raw).story
    assert list(story.entities.all()) == [existing]
    assert Entity.objects.matching_name("the harbour authority").get() == existing
