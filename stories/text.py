"""Text normalisation shared by matching code (outlets, entities, FAQs)."""

import re
import unicodedata

_APOSTROPHES = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        # Letters that no Unicode decomposition takes to ASCII, as writers
        # without them spell them ("Glos" for "G\u0142os", "Dagbladet" alike).
        "\u00f8": "o",
        "\u00d8": "O",
        "\u00e6": "ae",
        "\u00c6": "AE",
        "\u0153": "oe",
        "\u0152": "OE",
        "\u0142": "l",
        "\u0141": "L",
        "\u0111": "d",
        "\u0110": "D",
        "\u00f0": "d",
        "\u00d0": "D",
        "\u00fe": "th",
        "\u00de": "TH",
        "\u0131": "i",
    }
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free form of a name, for matching."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


def is_capitalised(word: str) -> bool:
    """Whether word starts like a name: a capital in any script ("Česká",
    "ČTK"), also after digits ("1News"). A script without case (Chinese,
    Arabic, Hebrew) has no capitals to tell a name by, so it counts."""
    letters = word.lstrip("0123456789")
    if not letters:
        return False
    first = letters[0]
    return first.isupper() or (first.isalpha() and not first.islower())


def name_key(name: str) -> str:
    """Matching key for an organisation name: fold() without a leading 'the'."""
    folded = fold(name)
    return folded[4:] if folded.startswith("the ") else folded


# Leading articles of outlet names in the languages the registry covers:
# "Le Monde" is also written "Monde", "L\u2019\u00c9quipe" "Equipe", "O Globo" "Globo".
# Only outlets are keyed without them: for places the article is part of the
# name ("El Salvador" is not "Salvador").
_ARTICLES = frozenset(
    "l le la les el los las il lo gli der die das den het de o os al "
    "\u03b7 \u03bf \u03c4\u03bf \u03bf\u03b9".split()
)
_FIRST_WORD = re.compile(r"[^\s'\u2019]+")
# Marks a key without the article in match_keys ("|le monde|~monde|"), so a
# name spelled in full matches before one that only agrees without articles
# ("The Standard" is not "Der Standard", though both are "Standard").
BARE = "~"


def outlet_key(name: str) -> str:
    """name_key() also without a leading article in any of the registry's
    languages, so "L\u2019\u00c9quipe" and "Equipe" find each other. An
    article written in capitals is an abbreviation ("LA Times") and stays."""
    words = name_key(name).split()
    first = _FIRST_WORD.match(name.strip())
    abbreviation = first is not None and len(first[0]) > 1 and first[0].isupper()
    if len(words) > 1 and words[0] in _ARTICLES and not abbreviation:
        words = words[1:]
    return " ".join(words)


def outlet_match_keys(names) -> str:
    """An outlet's names as they are written, then without articles."""
    full = sorted({name_key(n) for n in names if name_key(n)})
    bare = sorted({BARE + outlet_key(n) for n in names if outlet_key(n)})
    keys = full + bare
    return "|" + "|".join(keys) + "|" if keys else ""


def match_keys(names, key=fold) -> str:
    """Folded names stored as "|a|b|", so one LIKE query matches any of them."""
    keys = sorted({key(n) for n in names if key(n)})
    return "|" + "|".join(keys) + "|" if keys else ""


def unique_slug(model, text: str, *, max_length: int = 200, exclude_pk=None) -> str:
    """A slug for text that no other row of model uses yet."""
    from django.utils.text import slugify

    base = slugify(text)[: max_length - 8].strip("-") or "untitled"
    candidate, n = base, 2
    while model._default_manager.filter(slug=candidate).exclude(pk=exclude_pk).exists():
        candidate = f"{base}-{n}"
        n += 1
    return candidate


class OutletIndex:
    """Outlets by each of their match keys, to look many names up without a
    query each (Outlet.objects.index() loads one).

    The one rule for which outlet a name means: the outlet whose name or
    short form is written that way; failing that, unless the name is written
    with "The", the one outlet that agrees with it without articles."""

    def __init__(self, outlets=()):
        self._written: dict = {}
        self._bare: dict[str, list] = {}
        for outlet in outlets:
            self.add(outlet)

    def add(self, outlet) -> None:
        for key in filter(None, outlet.match_keys.split("|")):
            if key.startswith(BARE):
                same = self._bare.setdefault(key[len(BARE) :], [])
                if outlet not in same:
                    same.append(outlet)
            else:
                self._written.setdefault(key, outlet)

    def lookup(self, name: str):
        outlet = self._written.get(name_key(name))
        if outlet is not None:
            return outlet
        if fold(name).startswith("the "):
            return None  # "The Standard" is no "Der Standard"
        bare = self._bare.get(outlet_key(name), [])
        return bare[0] if len(bare) == 1 else None

    def ambiguous(self, name: str) -> list:
        """The outlets name could mean when it matches more than one."""
        if name_key(name) in self._written:
            return []
        bare = self._bare.get(outlet_key(name), [])
        return bare if len(bare) > 1 else []

    def with_new(self, outlets) -> "OutletIndex":
        """A copy that also knows outlets, for one import; the shared index
        learns them only once that import commits."""
        copy = OutletIndex()
        copy._written = dict(self._written)
        copy._bare = {key: list(value) for key, value in self._bare.items()}
        for outlet in outlets:
            copy.add(outlet)
        return copy
