"""No outlet a journalist wrote about is lost on import."""

import unicodedata
from unittest import mock

import pytest

from stories import services
from stories.explainer_format import parse, split_sentences
from stories.models import Outlet, SourceSummary
from stories.services import import_explainer
from tests.stories.explainers import DOCUMENTS, SEED, explainer

pytestmark = pytest.mark.django_db


def summaries(story) -> dict[str, str]:
    return dict(story.source_summaries.values_list("outlet__name", "summary"))


FRENCH_DAILY = (
    "Articles from The Guardian, L\u2019\u00c9quipe and Le Monde describe a tense "
    "week before the tournament.\n"
    "L\u2019\u00c9quipe focuses on the squad\u2019s injuries.\n"
    "Le Monde frames it as a test of the federation."
)


def test_outlet_missing_from_the_registry_is_added_for_review_and_summarised():
    assert not Outlet.objects.filter(name__icontains="quipe").exists()

    result = import_explainer(raw=explainer(FRENCH_DAILY))

    equipe = Outlet.objects.get(name="L\u2019\u00c9quipe")
    assert equipe.needs_review
    assert result.new_outlets == [equipe]
    assert list(summaries(result.story)) == [
        "The Guardian",
        "L\u2019\u00c9quipe",
        "Le Monde",
    ]
    assert "focuses on the squad" in summaries(result.story)["L\u2019\u00c9quipe"]
    assert any(
        "L\u2019\u00c9quipe" in w and "flagged for review" in w for w in result.warnings
    )


def test_registry_outlets_are_not_flagged_for_review():
    import_explainer(raw=explainer(FRENCH_DAILY))
    assert not Outlet.objects.get(name="Le Monde").needs_review


def test_outlet_named_only_before_a_reporting_verb_is_kept():
    result = import_explainer(
        raw=explainer("El Heraldo de Soria reported that the mayor resigned.")
    )
    assert list(summaries(result.story)) == ["El Heraldo de Soria"]


@pytest.mark.parametrize(
    "papers, outlet",
    [
        ("Marca, the Madrid sports daily, called the result a disaster.", "Marca"),
        ("Kurjer Polski\u2019s coverage dwelt on the cost.", "Kurjer Polski"),
        ("Coverage from Gull Bay Beacon was sceptical.", "Gull Bay Beacon"),
    ],
)
def test_outlet_described_as_one_is_kept(papers, outlet):
    result = import_explainer(raw=explainer(papers))
    assert list(summaries(result.story)) == [outlet]
    assert Outlet.objects.get(name=outlet).needs_review


@pytest.mark.parametrize(
    "name",
    [
        "\u0397 \u039a\u03b1\u03b8\u03b7\u03bc\u03b5\u03c1\u03b9\u03bd\u03ae \u03c4\u03b7\u03c2 \u039a\u03c5\u03c1\u03b9\u03b1\u03ba\u03ae\u03c2",  # noqa: E501
        "\u041d\u043e\u0432\u0430\u044f \u0433\u0430\u0437\u0435\u0442\u0430",
        "\u671d\u65e5\u65b0\u805e",
        "\u0627\u0644\u0623\u0647\u0631\u0627\u0645",
        "\u05d4\u05d0\u05e8\u05e5",
        "Dagens N\u00e6ringsliv",
        "G\u0142os Wielkopolski",
    ],
)
def test_outlets_in_any_script_are_kept(name):
    result = import_explainer(
        raw=explainer(f"Articles from {name} and Reuters agreed on the facts.")
    )
    assert set(summaries(result.story)) == {name, "Reuters"}


def test_decomposed_accents_are_read_as_the_composed_name():
    papers = unicodedata.normalize("NFD", FRENCH_DAILY)
    result = import_explainer(raw=explainer(papers))
    assert "L\u2019\u00c9quipe" in summaries(result.story)
    assert Outlet.objects.filter(name__startswith="L\u2019").count() == 1


def test_one_new_outlet_spelled_two_ways_is_added_once():
    result = import_explainer(
        raw=explainer(
            "Articles from L\u2019\u00c9quipe and Le Monde agree.\n"
            "L'Equipe reported the injuries first."
        )
    )
    assert len(result.new_outlets) == 1
    (equipe,) = result.new_outlets
    assert "L'Equipe reported" in summaries(result.story)[equipe.name]


@pytest.mark.parametrize(
    "registered, written",
    [
        ("L\u2019\u00c9quipe", "L'Equipe"),
        ("L'Equipe", "L\u2019\u00c9quipe"),
        ("L\u2019\u00c9quipe", "\u00c9quipe"),
        ("Equipe", "L\u2019\u00c9quipe"),
        ("Diario La Rioja", "diario la rioja"),
        ("Heraldo Nuevo", "El Heraldo Nuevo"),
        ("El Heraldo Nuevo", "Heraldo Nuevo"),
        ("Dagens N\u00e6ringsliv", "Dagens Naeringsliv"),
        ("G\u0142os Wielkopolski", "Glos Wielkopolski"),
        ("\u0397 \u0391\u03c5\u03b3\u03ae", "\u0391\u03c5\u03b3\u03ae"),
        (
            "\u041a\u043e\u043c\u043c\u0435\u0440\u0441\u0430\u043d\u0442\u044a",
            "\u041a\u041e\u041c\u041c\u0415\u0420\u0421\u0410\u041d\u0422\u042a",
        ),  # noqa: E501
        ("\uff2e\uff28\uff2b \u30cb\u30e5\u30fc\u30b9", "NHK \u30cb\u30e5\u30fc\u30b9"),
        ("Caf\u00e9 Babel", unicodedata.normalize("NFD", "Caf\u00e9 Babel")),
        ("Al-Watan Al-Arabi", "Al Watan Al Arabi"),
    ],
)
def test_outlet_names_match_however_they_are_spelled(registered, written):
    outlet = Outlet.objects.create(name=registered)
    assert list(Outlet.objects.matching_name(written)) == [outlet]
    assert Outlet.objects.index().lookup(written) == outlet


def test_a_name_written_in_full_prefers_the_outlet_spelled_that_way():
    # The Hong Kong "The Standard" and Vienna's "Der Standard" ship together.
    assert Outlet.objects.matching_name("Der Standard").get().name == "Der Standard"
    assert Outlet.objects.index().lookup("The Standard").name == "The Standard"


def test_a_bare_name_two_outlets_share_is_not_guessed():
    # "La Presse" (Montreal) and "Die Presse" (Vienna) are both "Presse".
    assert not Outlet.objects.matching_name("Presse").exists()
    result = import_explainer(raw=explainer("Presse reported the vote first."))
    assert not Outlet.objects.filter(name="Presse").exists()
    assert any("La Presse" in w and "Die Presse" in w for w in result.warnings)


def test_capitalised_articles_are_abbreviations_not_articles():
    assert Outlet.objects.index().lookup("LA Times").name == "Los Angeles Times"


def test_a_person_the_story_is_about_is_not_an_outlet():
    result = import_explainer(
        raw=explainer(
            "Le Pen said the vote was rigged. Reuters reported the count.",
            sections="Le Pen lost the runoff by a wide margin.",
        )
    )
    assert list(summaries(result.story)) == ["Reuters"]
    assert not Outlet.objects.filter(name="Le Pen").exists()


def test_paragraph_naming_no_outlet_is_kept_with_its_line_number():
    result = import_explainer(
        raw=explainer(
            "Reuters reported the count.\n"
            "Overall, the coverage agrees that the stakes are high."
        )
    )
    assert "the stakes are high" in result.story.papers_overview
    assert any(
        w.startswith("line 8:") and "names no outlet" in w for w in result.warnings
    )


def test_a_failed_import_adds_no_outlet_and_teaches_the_index_nothing():
    outlets = Outlet.objects.index()
    with mock.patch.object(services, "record_save", side_effect=RuntimeError):
        with pytest.raises(RuntimeError):
            import_explainer(raw=explainer(FRENCH_DAILY), outlets=outlets)
    assert not Outlet.objects.filter(name="L\u2019\u00c9quipe").exists()
    assert outlets.lookup("L\u2019\u00c9quipe") is None


def test_an_import_that_commits_teaches_the_shared_index(
    django_capture_on_commit_callbacks,
):
    outlets = Outlet.objects.index()
    with django_capture_on_commit_callbacks(execute=True):
        import_explainer(raw=explainer(FRENCH_DAILY), outlets=outlets)
    assert outlets.lookup("L'Equipe").name == "L\u2019\u00c9quipe"


def _documents():
    paths = sorted(DOCUMENTS.glob("*.txt"))
    if SEED.exists():
        paths.append(SEED)
    raw = {}
    for path in paths:
        try:
            parse(path.read_bytes())
        except ValueError:
            continue  # the malformed examples
        raw[path.name] = path.read_bytes()
    raw["french_daily"] = explainer(FRENCH_DAILY)
    raw["scripts"] = explainer(
        "Articles from \u671d\u65e5\u65b0\u805e, Le Monde and "
        "\u0627\u0644\u0623\u0647\u0631\u0627\u0645 agreed.\n"
        "\u671d\u65e5\u65b0\u805e reported the vote first.\n"
        "Marca, the Madrid sports daily, doubted it."
    )
    return raw


@pytest.mark.parametrize("name, raw", _documents().items())
def test_every_paragraph_about_an_outlet_gives_a_summary_or_a_warning(name, raw):
    result = import_explainer(raw=raw)
    parsed = parse(raw)
    texts = list(
        SourceSummary.objects.filter(story=result.story).values_list(
            "summary", flat=True
        )
    )
    for index, paragraph in enumerate(parsed.papers):
        quoted = any(
            sentence in text
            for sentence in split_sentences(paragraph)
            for text in texts
        )
        warned = any(
            w.startswith(f"line {parsed.paper_lines[index]}:") for w in result.warnings
        )
        assert quoted or warned, f"{name}: paragraph {index + 1} was dropped"


@pytest.mark.parametrize(
    "papers",
    [
        "Coverage from Marca was harsh, and Reuters reported the same.",
        "Articles from Gull Bay Beacon mostly agree, as Reuters reported.",
        "Reporting from Gaza remains limited, Reuters reported.",
        "Reports from Kyiv differ, Reuters reported.",
        "Al Gore said the deal was weak, Reuters reported.",
        "Biden, a regular reader of the paper, disagreed, Reuters reported.",
        "Musk\u2019s reporting requirements were waived, Reuters reported.",
        "An Independent candidate won the seat, Reuters reported.",
    ],
)
def test_fragments_people_and_places_do_not_become_outlets(papers):
    result = import_explainer(
        raw=explainer(papers, sections="Kyiv and Gaza are far apart.")
    )
    assert [o.name for o in result.new_outlets] in ([], ["Marca"], ["Gull Bay Beacon"])
    assert set(summaries(result.story)) - {"Marca", "Gull Bay Beacon"} == {"Reuters"}


def test_the_is_not_read_as_a_foreign_article():
    Outlet.objects.filter(name="The Standard").delete()
    assert Outlet.objects.index().lookup("The Standard") is None
    assert not Outlet.objects.matching_name("The Standard").exists()


def test_the_checksum_is_of_the_text_as_written():
    composed = explainer(FRENCH_DAILY)
    decomposed = unicodedata.normalize("NFD", composed.decode()).encode()
    assert parse(composed).checksum != parse(decomposed).checksum
