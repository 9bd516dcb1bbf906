"""Finding registry entities, and names that may deserve one, in a text.

Known entities are found with one Aho-Corasick automaton over every folded
name and alias (pyahocorasick), so the cost is one pass over the text however
large the registry grows. Names not yet known are runs of capitalised words,
counted, with a first guess at what they are; an editor decides.
"""

import re
import threading
from collections import Counter
from dataclasses import dataclass

import ahocorasick

from stories.text import fold, is_capitalised, name_key

from .models import Entity

# Words of a text; apostrophes and hyphens stay inside ("O'Brien", "Al-Ahram").
_WORD = re.compile(r"[^\W_](?:[\w'\u2019.-]*[^\W_])?")
_SENTENCE_END = re.compile(r"[.!?]['\"\u2019\u201d)]*$")
# Lower-case words inside names ("Bank of Japan", "Sea of Japan").
_JOINERS = frozenset("of de da do du la le el del della der van von bin al".split())
# Capitalised words that open sentences or name no one.
_NOT_NAMES = frozenset(
    """a an the this that these those it its he she they we you i his her their our
    in on at by for from to of and or but as if so yet while when where after
    before since though although because however meanwhile also both all each
    some many most several such other others there here what which who whom why
    how no not only even still just than then thus overall instead despite
    according following amid among under over with without within into across
    january february march april may june july august september october
    november december monday tuesday wednesday thursday friday saturday sunday
    mr mrs ms dr prof sir""".split()
)
_TITLES = frozenset(
    """president prime minister secretary senator sen rep representative governor
    mayor chancellor king queen prince princess pope general gen admiral judge
    justice chief leader mr mrs ms dr prof sir lord lady ambassador envoy
    spokesman spokeswoman spokesperson commissioner chairman chairwoman defense
    defence foreign finance""".split()
)
_SPEECH = re.compile(
    r"\s+(?:said|says|told|argued|argues|added|warned|warns|insisted|stated|"
    r"announced|announces|claimed|claims|wrote|writes|urged|urges|called|"
    r"vowed|pledged|denied|denies|met|visited|visits)\b"
)
_PLACE_BEFORE = frozenset("in to from across near into toward towards".split())
_ORGANISATION_WORDS = frozenset(
    """ministry party council bank agency department organisation organization
    union company corporation institute university court forces army navy
    commission committee parliament congress senate group association federation
    alliance fund authority office command headquarters administration
    government cabinet assembly league foundation""".split()
)
_PLACE_WORDS = frozenset(
    """sea ocean island islands river strait province city republic kingdom
    state states mountains valley bay gulf peninsula county region""".split()
)
MAX_NAME_WORDS = 6
# An entity's name field holds 200 characters.
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class Candidate:
    """A name the text uses that no entity has yet."""

    name: str
    key: str
    count: int
    kind: str


@dataclass
class _Token:
    text: str
    start: int
    # Whether it opens a sentence, and whether only spaces part it from the
    # word before (a run of name words never crosses punctuation).
    sentence_start: bool
    spaced: bool


def _tokens(text: str) -> list[_Token]:
    tokens, previous = [], None
    for match in _WORD.finditer(text):
        gap = text[previous.end() : match.start()] if previous else ""
        opens = (
            previous is None
            or bool(_SENTENCE_END.search(previous.group()))
            or bool(re.search(r"[.!?:;]", gap))
        )
        spaced = previous is not None and gap.isspace() and "\n" not in gap
        tokens.append(_Token(match.group(), match.start(), opens, spaced))
        previous = match
    return tokens


class EntityMatcher:
    """Every entity's name and aliases in one automaton.

    The haystack is the folded text with each word between two spaces, and
    each pattern a folded name between two spaces, so matches fall on whole
    words and adjacent names do not share a space."""

    def __init__(self, entities):
        entities = [
            (pk, kind, [n for n in names if n.strip()]) for pk, kind, names in entities
        ]
        self._automaton = ahocorasick.Automaton()
        found = False
        for entity_id, kind, names in entities:
            for name in names:
                key = name_key(name)
                if not key:
                    continue
                # An alias in capitals ("US") matches only capitals: "us"
                # is a word.
                acronym = name.isupper() and len(name) <= 5
                pattern = " " + key.replace(" ", "  ") + " "
                if pattern not in self._automaton:
                    value = (entity_id, kind, acronym, len(pattern))
                    self._automaton.add_word(pattern, value)
                    found = True
        # A person is also named by surname alone ("Hegseth"), where no
        # other entity or person has that word.
        surnames = Counter(
            name.split()[-1]
            for _, kind, names in entities
            if kind == Entity.Kind.PERSON
            for name in names[:1]
            if len(name.split()) > 1
        )
        for entity_id, kind, names in entities:
            if kind != Entity.Kind.PERSON or not names or len(names[0].split()) < 2:
                continue
            surname = names[0].split()[-1]
            key = name_key(surname)
            pattern = " " + key + " "
            if (
                surnames[surname] == 1
                and len(key) > 3
                and pattern not in self._automaton
            ):
                self._automaton.add_word(
                    pattern, (entity_id, kind, False, len(pattern))
                )
                found = True
        if found:
            self._automaton.make_automaton()
        self._empty = not found

    def find(self, text: str) -> tuple[Counter, set[int]]:
        """How often each entity is named, and the positions of the words
        that named one."""
        counts: Counter = Counter()
        covered: set[int] = set()
        if self._empty:
            return counts, covered
        tokens = _tokens(text)
        haystack, owner = [], []
        for index, token in enumerate(tokens):
            for part in fold(token.text).split():
                haystack.append(" " + part + " ")
                owner.extend([index] * (len(part) + 2))
        # The sentinel works around pyahocorasick 2.3's iter_long missing a
        # match that ends the input (its issue 185).
        joined = "".join(haystack) + "\x00"
        for end, (entity_id, kind, acronym, length) in self._automaton.iter_long(
            joined
        ):
            words = list(dict.fromkeys(owner[end - length + 1 : end + 1]))
            first = tokens[words[0]].text
            if acronym and not all(tokens[i].text.isupper() for i in words):
                continue
            if kind != Entity.Kind.TOPIC and not is_capitalised(first):
                continue
            counts[entity_id] += 1
            covered.update(words)
        return counts, covered


_cache_lock = threading.Lock()
_cached: tuple | None = None


def matcher() -> EntityMatcher:
    """The process's matcher, rebuilt when any entity changes (one query to
    tell)."""
    global _cached
    from django.db.models import Count, Max

    stamp = tuple(
        Entity.objects.aggregate(n=Count("pk"), at=Max("updated_at")).values()
    )
    with _cache_lock:
        if _cached is None or _cached[0] != stamp:
            rows = Entity.objects.values_list("pk", "kind", "name", "aliases")
            _cached = (
                stamp,
                EntityMatcher(
                    (pk, kind, [name, *aliases.splitlines()])
                    for pk, kind, name, aliases in rows.iterator()
                ),
            )
        return _cached[1]


def candidates(text: str, *, covered: set[int], is_known=None) -> list[Candidate]:
    """Runs of capitalised words no entity matched, most mentioned first.

    A single word counts only if it is named twice and not just as the first
    word of a sentence; is_known(name) says whether something else (an
    outlet) already has the name."""
    tokens = _tokens(text)

    def name_like(index: int) -> bool:
        # Only cased scripts mark names: a Chinese or Arabic clause is not one.
        word = tokens[index].text
        return (
            index not in covered and word[0].isupper() and fold(word) not in _NOT_NAMES
        )

    runs: list[list[int]] = []
    current: list[int] = []
    for index, token in enumerate(tokens):
        continues = (
            bool(current)
            and token.spaced
            and not token.sentence_start
            and not tokens[index - 1].text.endswith(("'s", "\u2019s"))
        )
        if name_like(index):
            if current and not continues:
                runs.append(current)
                current = []
            current.append(index)
        elif continues and token.text in _JOINERS and index not in covered:
            current.append(index)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)

    counts: Counter = Counter()
    names: dict[str, str] = {}
    kinds: dict[str, Counter] = {}
    mid_sentence: set[str] = set()
    for run in runs:
        while run and tokens[run[-1]].text in _JOINERS:
            run.pop()
        # "Prime Minister Sanae Takaichi" names her; "Prime Minister" no one.
        titled = bool(run) and fold(tokens[run[0]].text) in _TITLES
        while run and fold(tokens[run[0]].text) in _TITLES:
            run.pop(0)
        if not run or len(run) > MAX_NAME_WORDS:
            continue
        name = " ".join(tokens[i].text for i in run)
        name = re.sub(r"['\u2019]s$", "", name)
        key = name_key(name)
        if not key or key in _NOT_NAMES or len(name) > MAX_NAME_CHARS:
            continue
        if is_known and is_known(name):
            continue
        counts[key] += 1
        names.setdefault(key, name)
        if not tokens[run[0]].sentence_start:
            mid_sentence.add(key)
        kind = Entity.Kind.PERSON if titled else _guess_kind(text, tokens, run)
        kinds.setdefault(key, Counter())[kind] += 1

    # "Takaichi" after "Sanae Takaichi" is the same person.
    multi = [key for key in counts if " " in key]
    for key in [k for k in counts if " " not in k]:
        fuller = [m for m in multi if m.split()[-1] == key or m.split()[0] == key]
        if len(fuller) == 1:
            counts[fuller[0]] += counts.pop(key)
            kinds[fuller[0]] += kinds.pop(key)
    found = []
    for key, count in counts.items():
        single = " " not in key
        if single and (count < 2 or key not in mid_sentence):
            continue
        # Any mention that tells what it is outweighs those that do not.
        told = Counter({k: n for k, n in kinds[key].items() if k != Entity.Kind.TOPIC})
        kind = (told or kinds[key]).most_common(1)[0][0]
        found.append(Candidate(name=names[key], key=key, count=count, kind=kind))
    found.sort(key=lambda c: (-c.count, c.name))
    return found


def _guess_kind(text: str, tokens: list[_Token], run: list[int]) -> str:
    words = {fold(tokens[i].text) for i in run}
    if words & _ORGANISATION_WORDS or (
        len(run) == 1 and tokens[run[0]].text.isupper() and len(tokens[run[0]].text) > 1
    ):
        return Entity.Kind.ORGANISATION
    if words & _PLACE_WORDS:
        return Entity.Kind.PLACE
    before = fold(tokens[run[0] - 1].text) if run[0] > 0 else ""
    last = tokens[run[-1]]
    if before in _TITLES or _SPEECH.match(text, last.start + len(last.text)):
        return Entity.Kind.PERSON
    if before in _PLACE_BEFORE:
        return Entity.Kind.PLACE
    return Entity.Kind.TOPIC
