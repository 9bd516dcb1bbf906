"""How good and how fast are topic suggestions?

Loads the demo stories and imports the test documents (and the shared seed
where it exists) into a throwaway SQLite database, then compares, for each
story, the topics suggested from its text with the topics it carries:
precision (suggested topics it carries / all suggested) and recall (carried
topics suggested / all carried). A new name counts as a carried topic when
it names it (same folded name or surname).

The baseline, in the same run, is exact-name matching only (what a loop of
one regex per entity finds). Speed: the Aho-Corasick matcher against that
loop of regexes over one story's text, with the registry padded to
--registry entities.

    .venv/bin/python bench/suggestions/run.py [--registry 5000]
"""

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SEED = ROOT.parent / "shared" / "seeds" / "000_deb1a77cd77502f3.txt"


def setup_django(database: Path) -> None:
    os.environ["DEBUG"] = "true"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "newsroom.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("setup_demo", verbosity=0)


def load_documents() -> int:
    from stories.explainer_format import MalformedDocument
    from stories.services import import_explainer

    paths = sorted((ROOT / "tests" / "stories" / "documents").glob("*.txt"))
    if SEED.exists():
        paths.append(SEED)
    imported = 0
    for path in paths:
        try:
            import_explainer(raw=path.read_bytes())
            imported += 1
        except MalformedDocument:
            pass  # the malformed examples
    return imported


def names_it(candidate_key: str, entity) -> bool:
    from stories.text import name_key

    keys = {name_key(n) for n in [entity.name, *entity.alias_list]}
    surname = name_key(entity.name.split()[-1])
    return candidate_key in keys or candidate_key.split()[-1] == surname


def score(exact_only: bool) -> tuple[int, int, int, list]:
    from entities.models import Entity
    from stories.models import Story
    from stories.suggestions import read_story, story_text

    if exact_only:
        rows = Entity.objects.values_list("pk", "name")
        pattern = {
            pk: re.compile(rf"(?<!\w){re.escape(name)}(?!\w)") for pk, name in rows
        }
    hits = suggested_total = carried_total = 0
    rows_out = []
    for story in Story.objects.prefetch_related("entities", "sections"):
        carried = list(story.entities.all())
        if not carried:
            continue
        if exact_only:
            text = story_text(story).everything
            known = {pk for pk, rx in pattern.items() if rx.search(text)}
            new = []
        else:
            counts, new = read_story(story)
            known = set(counts)
        found = known & {e.pk for e in carried}
        for candidate in new:
            found |= {e.pk for e in carried if names_it(candidate.key, e)}
        suggested = len(known) + len(new)
        hits += len(found)
        suggested_total += suggested
        carried_total += len(carried)
        rows_out.append((story.headline[:48], len(carried), suggested, len(found)))
    return hits, suggested_total, carried_total, rows_out


def speed(registry_size: int) -> tuple[float, float]:
    from entities.matching import EntityMatcher
    from stories.models import Story
    from stories.suggestions import story_text

    names = [f"Person{n} Surname{n}" for n in range(registry_size)]
    entries = [(n, "person", [name]) for n, name in enumerate(names)]
    text = story_text(Story.objects.first()).everything * 3
    aho = EntityMatcher(entries)
    regexes = [re.compile(rf"(?<!\w){re.escape(n)}(?!\w)") for n in names]

    def timed(call, repeat=20):
        start = time.perf_counter()
        for _ in range(repeat):
            call()
        return (time.perf_counter() - start) / repeat

    return timed(lambda: aho.find(text)), timed(
        lambda: [rx.search(text) for rx in regexes], repeat=5
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--registry", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        setup_django(Path(work) / "bench.sqlite3")
        imported = load_documents()
        print(f"{imported} documents imported beside the demo stories\n")
        for label, exact in (("exact names (baseline)", True), ("suggestions", False)):
            hits, suggested, carried, rows = score(exact)
            if not exact:
                print(f"{'story':48}  carried  suggested  found")
                for headline, n_carried, n_suggested, n_found in rows:
                    print(f"{headline:48}  {n_carried:7}  {n_suggested:9}  {n_found:5}")
                print()
            precision = hits / suggested if suggested else 0.0
            recall = hits / carried if carried else 0.0
            print(f"{label:24} precision {precision:.2f}  recall {recall:.2f}")
        aho, loop = speed(args.registry)
        print(
            f"\nmatching one story against {args.registry:,} entities: "
            f"Aho-Corasick {aho * 1000:.2f} ms, regex loop {loop * 1000:.1f} ms "
            f"({loop / aho:.0f}x)"
        )


if __name__ == "__main__":
    main()
