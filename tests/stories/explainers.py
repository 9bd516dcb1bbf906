"""Documents in the explainer format that several test modules read."""

from pathlib import Path

import pytest

DOCUMENTS = Path(__file__).parent / "documents"
# The shared sample story: on development and CI machines, not in the project.
SEED = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "seeds"
    / "000_deb1a77cd77502f3.txt"
)
needs_seed = pytest.mark.skipif(
    not SEED.exists(), reason="the shared seed is only on dev and CI machines"
)

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


def document(name: str) -> bytes:
    return (DOCUMENTS / name).read_bytes()


def explainer(papers: str, sections: str = "Because of reasons.") -> bytes:
    """MINIMAL with its own "What the papers say" and section text."""
    return (
        MINIMAL.replace("Reuters reported it.\n", f"{papers}\n")
        .replace("Because of reasons.\n", f"{sections}\n")
        .encode()
    )
