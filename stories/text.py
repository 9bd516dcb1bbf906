"""Text normalisation shared by matching code (outlets, entities, FAQs)."""

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free form of a name, for matching."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


def name_key(name: str) -> str:
    """Matching key for an organisation name: fold() without a leading 'the'."""
    folded = fold(name)
    return folded[4:] if folded.startswith("the ") else folded


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
