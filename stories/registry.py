"""The shipped registry of news organisations (stories/data/outlets.json)."""

import json
from pathlib import Path

from .text import name_key, outlet_match_keys

REGISTRY_PATH = Path(__file__).resolve().parent / "data" / "outlets.json"


def load_outlet_registry(outlet_model, path: Path = REGISTRY_PATH) -> int:
    """Add registry outlets that are missing; returns how many were added.

    Existing rows are left alone, so an editor's changes survive a reload.
    Works with the historical model in migrations, which has no custom save(),
    so derived columns are filled here.
    """
    entries = json.loads(path.read_text(encoding="utf-8"))
    existing_slugs = set(outlet_model.objects.values_list("slug", flat=True))
    existing_names = {
        name_key(n) for n in outlet_model.objects.values_list("name", flat=True)
    }
    new = []
    for entry in entries:
        if entry["slug"] in existing_slugs or name_key(entry["name"]) in existing_names:
            continue
        short_forms = entry.get("short_forms", [])
        new.append(
            outlet_model(
                name=entry["name"],
                slug=entry["slug"],
                short_forms="\n".join(short_forms),
                homepage=entry.get("homepage", ""),
                country=entry.get("country", "").upper(),
                language=entry.get("language", ""),
                match_keys=outlet_match_keys([entry["name"], *short_forms]),
            )
        )
    outlet_model.objects.bulk_create(new)
    return len(new)
