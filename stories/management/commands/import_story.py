from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from stories.explainer_format import MalformedDocument
from stories.models import Outlet
from stories.services import import_explainer


class Command(BaseCommand):
    help = (
        "Import documents in the explainer format as draft stories. Each file "
        "imports whole or not at all; the others still import."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "--headline",
            default="",
            help="Headline for the story (only with a single file). Without it "
            "one is derived from the summary and flagged for an editor.",
        )
        parser.add_argument(
            "--author", default="", help="Username to credit as the stories' author."
        )

    def handle(self, *args, files, headline, author, **options):
        if headline and len(files) > 1:
            raise CommandError("--headline names one story; give a single file.")
        by = None
        if author:
            try:
                by = get_user_model().objects.get_by_natural_key(author)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user called {author!r}.") from None
        outlets = Outlet.objects.index()
        imported, present, refused = [], [], []
        total = len(files)
        for number, path in enumerate(files, start=1):
            prefix = f"[{number}/{total}] {path}"
            try:
                raw = path.read_bytes()
                result = import_explainer(
                    raw=raw, by=by, headline=headline, outlets=outlets
                )
            except OSError as error:
                refused.append((path, error.strerror or str(error)))
                self.stderr.write(f"{prefix}: refused: {error.strerror or error}")
                continue
            except MalformedDocument as error:
                refused.append((path, str(error)))
                self.stderr.write(f"{prefix}: refused: {error}")
                continue
            except IntegrityError:
                # Another import of the same document committed first.
                present.append(path)
                self.stdout.write(f"{prefix}: already imported")
                continue
            story = result.story
            if result.created:
                imported.append(path)
                self.stdout.write(
                    f"{prefix}: imported as draft "
                    f"\u201c{story.headline}\u201d (id {story.pk})"
                )
            else:
                present.append(path)
                self.stdout.write(
                    f"{prefix}: already imported as "
                    f"\u201c{story.headline}\u201d (id {story.pk})"
                )
            for warning in result.warnings:
                self.stdout.write(f"    warning: {warning}")
            if result.created and story.headline_needs_review:
                self.stdout.write(
                    "    note: headline derived from the summary; "
                    "an editor should rewrite it"
                )
        self.stdout.write(
            f"\n{len(imported)} imported, {len(present)} already present, "
            f"{len(refused)} refused."
        )
        for path, reason in refused:
            self.stdout.write(f"  refused {path}: {reason}")
        if refused:
            raise CommandError(f"{len(refused)} of {total} files were refused.")
