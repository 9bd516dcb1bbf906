from pathlib import Path

import pytest

from stories.explainer_format import (
    MAX_DOCUMENT_BYTES,
    MalformedDocument,
    find_outlet_mentions,
    parse,
    split_sentences,
    whole_sentences,
)

DOCUMENTS = Path(__file__).parent / "documents"
SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "000_deb1a77cd77502f3.txt"

MINIMAL = """What's happened
A thing happened.
What's behind the headline?
Why it matters
Because of reasons.
What the papers say
Reuters reported it.
How we got here
It began long ago.
Go deeper
Common question
-
What next?
Nobody knows yet.
More on these topics
-
Japan is an island country.
"""


def document(name):
    return (DOCUMENTS / name).read_bytes()


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed is only on dev and CI machines")
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
        "Peter Brian Hegseth", "Sanae Takaichi", "Donald John Trump", "Japan",
    ]


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed is only on dev and CI machines")
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
        (document("malformed_order.txt"), "\u201cWhat's behind the headline?\u201d is missing or out of order", 3),
        (document("malformed_question.txt"), "has no answer", 13),
        (MINIMAL.replace("How we got here\n", "").encode(), "\u201cHow we got here\u201d is missing", 9),
        (MINIMAL.split("More on these topics")[0].encode(), "missing the heading \u201cMore on these topics\u201d", 14),
        (("Intro line\n" + MINIMAL).encode(), "text before the first heading", 1),
        (MINIMAL.replace("A thing happened.\n", "A thing happened.\nWhat's happened\n").encode(), "appears twice", 3),
        (MINIMAL.replace("Why it matters\n", "").encode(), "expected a section title", 4),
        (MINIMAL.replace("Because of reasons.", "Because of\x00reasons.").encode(), "control character", 5),
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
    outlets = {"reuters": "Reuters", "folha de s paulo": "Folha", "le monde": "Le Monde",
               "el pais": "El País"}
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
