from entities.matching import EntityMatcher, candidates
from entities.models import Entity

PERSON, PLACE, TOPIC = Entity.Kind.PERSON, Entity.Kind.PLACE, Entity.Kind.TOPIC


def test_known_entities_are_found_by_name_alias_and_surname():
    matcher = EntityMatcher(
        [
            (1, PLACE, ["Japan"]),
            (2, PERSON, ["Sanae Takaichi"]),
            (3, PLACE, ["United States", "U.S."]),
        ]
    )
    counts, _ = matcher.find(
        "Japan's leader Sanae Takaichi met U.S. envoys. Takaichi said Japan "
        "would pay; the United States agreed."
    )
    assert counts == {1: 2, 2: 2, 3: 2}


def test_the_longest_name_wins_and_adjacent_names_both_count():
    matcher = EntityMatcher([(1, PLACE, ["Korea"]), (2, PLACE, ["North Korea"])])
    counts, _ = matcher.find("North Korea Korea")
    assert counts == {2: 1, 1: 1}


def test_matching_folds_accents_case_and_apostrophes():
    matcher = EntityMatcher([(1, PLACE, ["Belém"]), (2, PERSON, ["Beto O'Rourke"])])
    counts, _ = matcher.find("In BELEM and Belém, Beto O\u2019Rourke spoke.")
    assert counts == {1: 2, 2: 1}


def test_acronym_aliases_match_only_capitals():
    matcher = EntityMatcher([(1, PLACE, ["United States", "US"])])
    counts, _ = matcher.find("They told us the US would act.")
    assert counts == {1: 1}


def test_people_and_places_are_not_found_in_lower_case_words():
    matcher = EntityMatcher([(1, PLACE, ["Turkey"]), (2, TOPIC, ["Climate change"])])
    counts, _ = matcher.find(
        "The turkey was served. Climate change and climate change."
    )
    assert counts == {2: 2}


def test_words_inside_other_words_are_not_names():
    matcher = EntityMatcher([(1, PLACE, ["Oman"])])
    assert matcher.find("Romania and a woman")[0] == {}


def test_a_shared_surname_names_no_one():
    matcher = EntityMatcher([(1, PERSON, ["Joe Biden"]), (2, PERSON, ["Hunter Biden"])])
    assert matcher.find("Biden said no.")[0] == {}


def test_new_names_are_counted_with_a_guessed_kind():
    text = (
        "Prime Minister Ana Ruiz met the Harbour Authority in Puerto Claro. "
        "Ruiz said the Harbour Authority would decide. Later, Ruiz left."
    )
    found = {c.name: c for c in candidates(text, covered=set())}
    assert found["Ana Ruiz"].count == 3  # "Ruiz" alone is the same person
    assert found["Ana Ruiz"].kind == PERSON
    assert found["Harbour Authority"].kind == Entity.Kind.ORGANISATION
    assert found["Puerto Claro"].kind == PLACE
    assert "Prime Minister" not in found and "Later" not in found


def test_a_single_word_needs_two_mentions_inside_sentences():
    found = {c.name for c in candidates("Dresden grew. Dresden shrank.", covered=set())}
    assert found == set()
    found = {
        c.name
        for c in candidates("Trade with Dresden grew. Dresden won.", covered=set())
    }
    assert found == {"Dresden"}


def test_names_known_elsewhere_are_not_new():
    found = candidates(
        "The Harbour Gazette and Ana Ruiz disagreed.",
        covered=set(),
        is_known=lambda name: name == "Harbour Gazette",
    )
    assert [c.name for c in found] == ["Ana Ruiz"]


def test_a_name_that_ends_the_text_is_found_beside_a_longer_one():
    # pyahocorasick 2.3's iter_long drops a match at the very end.
    matcher = EntityMatcher(
        [
            (1, PLACE, ["Korea"]),
            (2, Entity.Kind.ORGANISATION, ["North Korea Development Bank"]),
        ]
    )
    assert matcher.find("They fled North Korea")[0] == {1: 1}


def test_clauses_in_scripts_without_case_are_not_names():
    text = "\u0627\u0644\u062d\u0643\u0648\u0645\u0629 \u0642\u0627\u0644\u062a. " * 3
    assert candidates(text, covered=set()) == []
