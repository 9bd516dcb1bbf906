from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from newsroom import pagecache
from stories import services
from stories.models import Story


class Command(BaseCommand):
    help = (
        "Load a file written by export_content into an empty database, in one "
        "transaction: on any error nothing is loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        if Story.objects.exists():
            raise CommandError(
                "This database already has stories; import into an empty one "
                "(migrate a new database first)."
            )
        try:
            with transaction.atomic():
                call_command("loaddata", path, verbosity=0)
                # Derived from the live revisions, so not in the file.
                services.rebuild_live_topics()
                transaction.on_commit(pagecache.invalidate_everything)
        except Exception as error:
            raise CommandError(f"Nothing was imported: {error}") from error
        self.stdout.write(f"Imported {Story.objects.count()} stories from {path}.")
