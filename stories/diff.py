"""Readable differences between two story snapshots (revision contents)."""

import difflib
import html
import re
from dataclasses import dataclass

from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

FIELD_LABELS = {
    "headline": "Headline",
    "summary": "What\u2019s happened",
    "sections": "Sections",
    "papers_overview": "What the papers say",
    "source_summaries": "Outlets",
    "background": "How we got here",
    "faqs": "Go deeper (FAQs)",
    "entities": "Topics",
    "tags": "Tags",
    "authors": "Authors",
    "hero_image": "Hero image",
}


@dataclass
class FieldDiff:
    label: str
    html: SafeString


def _text(value) -> str:
    """Readable text of a rich-text or plain value, for word diffs."""
    if value is None:
        return ""
    text = re.sub(r"</(p|h\d|li|blockquote)>", "\n", str(value))
    return html.unescape(strip_tags(text)).strip()


def word_diff(old: str, new: str) -> SafeString:
    """old and new as one escaped text with <del> and <ins> marking words."""
    a, b = re.findall(r"\s+|\S+", old), re.findall(r"\s+|\S+", new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, a, b, autojunk=False
    ).get_opcodes():
        if op == "equal":
            out.append(escape("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return mark_safe("".join(out).replace("\n", "<br>"))


def _list_diff(label, old_items, new_items, key, render) -> list[FieldDiff]:
    """Added, removed, reordered and changed entries of an ordered list."""
    old_keys, new_keys = [key(i) for i in old_items], [key(i) for i in new_items]
    diffs = []
    added = [i for i in new_items if key(i) not in old_keys]
    removed = [i for i in old_items if key(i) not in new_keys]
    for item in added:
        diffs.append(
            FieldDiff(
                f"{label}: added \u201c{key(item)}\u201d", word_diff("", render(item))
            )
        )
    for item in removed:
        diffs.append(
            FieldDiff(
                f"{label}: removed \u201c{key(item)}\u201d", word_diff(render(item), "")
            )
        )
    common_old = [k for k in old_keys if k in new_keys]
    common_new = [k for k in new_keys if k in old_keys]
    if common_old != common_new:
        diffs.append(
            FieldDiff(
                f"{label}: reordered",
                mark_safe(
                    escape(" \u2192 ".join(common_old))
                    + "<br>became<br>"
                    + escape(" \u2192 ".join(common_new))
                ),
            )
        )
    old_by_key = {key(i): i for i in old_items}
    for item in new_items:
        before = old_by_key.get(key(item))
        if before is not None and render(before) != render(item):
            diffs.append(
                FieldDiff(
                    f"{label}: \u201c{key(item)}\u201d changed",
                    word_diff(render(before), render(item)),
                )
            )
    return diffs


def diff_contents(old: dict, new: dict) -> list[FieldDiff]:
    """Every difference between two snapshots, field by field."""
    diffs = []
    for key in ("headline", "summary", "papers_overview", "background"):
        before, after = _text(old.get(key)), _text(new.get(key))
        if before != after:
            diffs.append(FieldDiff(FIELD_LABELS[key], word_diff(before, after)))
    diffs += _list_diff(
        "Section",
        old.get("sections", []),
        new.get("sections", []),
        key=lambda s: s["heading"],
        render=lambda s: _text(s["body"]),
    )
    diffs += _list_diff(
        "Outlet",
        old.get("source_summaries", []),
        new.get("source_summaries", []),
        key=lambda s: s["outlet"]["name"],
        render=lambda s: f"{s['summary']} {s['url']}".strip(),
    )
    diffs += _list_diff(
        "Topic",
        old.get("entities", []),
        new.get("entities", []),
        key=lambda e: e["name"],
        render=lambda e: e["short_description"],
    )
    diffs += _list_diff(
        "FAQ",
        old.get("faqs", []),
        new.get("faqs", []),
        key=lambda f: f["question"],
        render=lambda f: "",
    )
    for key, attr in (("tags", "name"), ("authors", "name")):
        before = [i[attr] for i in old.get(key, [])]
        after = [i[attr] for i in new.get(key, [])]
        if before != after:
            diffs.append(
                FieldDiff(
                    FIELD_LABELS[key], word_diff(", ".join(before), ", ".join(after))
                )
            )
    if old.get("hero_image") != new.get("hero_image"):

        def describe(h):
            return (
                f"{h['name']} \u2014 {h['alt']} {h['caption']} {h['credit']}"
                if h
                else ""
            )

        diffs.append(
            FieldDiff(
                FIELD_LABELS["hero_image"],
                word_diff(
                    describe(old.get("hero_image")), describe(new.get("hero_image"))
                ),
            )
        )
    return diffs


@dataclass(frozen=True)
class SectionChange:
    """A part of the story page that differs between two revisions."""

    heading: str
    change: str  # "added", "changed" or "removed"
    # The part's id on the live page; "" for a part the live page lacks.
    anchor: str = ""


# The story page's parts other than the analysis sections, in page order,
# with the content they show and their ids (stories/includes/story_parts.html).
_PAGE_PARTS = (
    ("What\u2019s happened", "whats-happened", ("summary",)),
    ("What the papers say", "papers-say", ("papers_overview", "source_summaries")),
    ("How we got here", "how-we-got-here", ("background",)),
    ("Go deeper", "go-deeper", ("faqs",)),
)


def _part_text(content: dict, keys) -> list:
    """What a part shows readers, to compare: text, and for lists the
    fields the page prints."""
    shown = []
    for key in keys:
        if key == "source_summaries":
            shown.append(
                [
                    (s["outlet"]["name"], s["summary"], s.get("url", ""))
                    for s in content.get(key, [])
                ]
            )
        elif key == "faqs":
            shown.append([f["question"] for f in content.get(key, [])])
        else:
            shown.append(_text(content.get(key)))
    return shown


def changed_sections(old: dict, new: dict) -> list[SectionChange]:
    """What a reader who saw old finds different in new, in page order:
    the analysis sections added, changed or removed (known by heading), and
    the page's other parts whose text changed."""
    summary, *rest = _PAGE_PARTS
    changes = _part_changes(old, new, [summary])
    old_bodies = {s["heading"]: s["body"] for s in old.get("sections", [])}
    new_headings = set()
    for position, section in enumerate(new.get("sections", []), start=1):
        heading = section["heading"]
        new_headings.add(heading)
        anchor = f"analysis-{position}"
        if heading not in old_bodies:
            changes.append(SectionChange(heading, "added", anchor))
        elif _differs(old_bodies[heading], section["body"]):
            changes.append(SectionChange(heading, "changed", anchor))
    changes += [
        SectionChange(heading, "removed")
        for heading in old_bodies
        if heading not in new_headings
    ]
    return changes + _part_changes(old, new, rest)


def _differs(old_html, new_html) -> bool:
    """Whether two rich texts read differently. Most parts of a republished
    story are unchanged, byte for byte: only the rest pay for stripping."""
    return old_html != new_html and _text(old_html) != _text(new_html)


def _part_changes(old, new, parts) -> list[SectionChange]:
    changes = []
    for heading, anchor, keys in parts:
        if all(old.get(k) == new.get(k) for k in keys):
            continue
        if _part_text(old, keys) == _part_text(new, keys):
            continue
        if not any(new.get(k) for k in keys):
            changes.append(SectionChange(heading, "removed"))
        elif not any(old.get(k) for k in keys):
            changes.append(SectionChange(heading, "added", anchor))
        else:
            changes.append(SectionChange(heading, "changed", anchor))
    return changes
