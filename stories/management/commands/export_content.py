from django.core.management import call_command
from django.core.management.base import BaseCommand

# Everything editorial, in an order loaddata can follow. Accounts are
# included because stories name their authors and revisions their editors.
CONTENT_MODELS = [
    "auth.Group",
    "auth.User",
    "taggit.Tag",
    "entities.Entity",
    "stories.Outlet",
    "stories.FAQ",
    "stories.Story",
    "stories.Section",
    "stories.SourceSummary",
    "stories.StoryEntity",
    "stories.StoryRevision",
    "stories.StoryTransition",
    "stories.Correction",
    "stories.StorySlugRedirect",
    "taggit.TaggedItem",
]


class Command(BaseCommand):
    help = (
        "Write every story, revision, entity, FAQ, outlet, tag and account as "
        "JSON (import it with import_content). It holds password hashes and "
        "unpublished text: store it as carefully as a database backup."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="File to write, or - for standard output.")

    def handle(self, *args, path, **options):
        call_command(
            "dumpdata",
            *CONTENT_MODELS,
            natural_foreign=True,
            indent=1,
            format="exact-json",
            output=None if path == "-" else path,
            stdout=self.stdout,
        )
