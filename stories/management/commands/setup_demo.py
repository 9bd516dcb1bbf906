import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from entities.models import Entity
from stories import services
from stories.images import clean_image
from stories.models import FAQ, Outlet, Section, SourceSummary, Story, StoryEntity

CONTENT_PATH = Path(__file__).resolve().parents[2] / "demo" / "content.json"

# Local development only: the command refuses to run with DEBUG off.
DEMO_ACCOUNTS = [
    # username, password, group, first name, last name, superuser
    ("journalist", "journalist-demo-password", "Journalists", "Jo", "Reporter", False),
    ("editor", "editor-demo-password", "Editors", "Ed", "Desk", False),
    ("admin", "admin-demo-password", None, "Site", "Admin", True),
]


class Command(BaseCommand):
    help = "Create demo accounts and demo stories for local development (DEBUG only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "setup_demo creates accounts with published passwords; it only "
                "runs with DEBUG=true."
            )
        with transaction.atomic():
            users = self._accounts()
            created = self._content(
                journalist=users["journalist"], editor=users["editor"]
            )
        self.stdout.write(
            f"Demo content ready ({created} new stories).\n\n"
            f"  Site:  {settings.SITE_URL}/\n"
            f"  Admin: {settings.SITE_URL}/admin/\n"
        )
        for username, password, group, *_ in DEMO_ACCOUNTS:
            role = group or "superuser"
            self.stdout.write(
                f"  {role:<12} username {username:<11} password {password}"
            )
        self.stdout.write("")

    def _accounts(self):
        User = get_user_model()
        users = {}
        for username, password, group, first, last, superuser in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                    "is_staff": True,
                    "is_superuser": superuser,
                },
            )
            if created:
                user.set_password(password)
                user.save()
            if group:
                user.groups.add(Group.objects.get(name=group))
            users[username] = user
        return users

    def _content(self, *, journalist, editor) -> int:
        data = json.loads(CONTENT_PATH.read_text(encoding="utf-8"))
        entities = {}
        for item in data["entities"]:
            entity, _ = Entity.objects.get_or_create(
                slug=item["slug"],
                defaults={
                    "name": item["name"],
                    "kind": item["kind"],
                    "short_description": item["short_description"],
                    "biography": item["biography"],
                    "aliases": "\n".join(item["aliases"]),
                    "wikidata_id": item["wikidata_id"],
                },
            )
            entities[item["slug"]] = entity
        faqs = {}
        for item in data["faqs"]:
            faqs[item["slug"]], _ = FAQ.objects.get_or_create(
                slug=item["slug"],
                defaults={"question": item["question"], "answer": item["answer"]},
            )
        created = 0
        for item in data["stories"]:
            if Story.objects.filter(slug=item["slug"]).exists():
                continue
            story = Story(
                headline=item["headline"],
                slug=item["slug"],
                summary=item["summary"],
                papers_overview=item["papers_overview"],
                background=item["background"],
            )
            if "hero_image" in item:
                self._attach_hero_image(story, item["hero_image"])
            story.save()
            story.authors.add(journalist)
            story.tags.add(*item["tags"])
            story.faqs.add(*(faqs[slug] for slug in item["faq_slugs"]))
            for position, section in enumerate(item["sections"]):
                Section.objects.create(story=story, position=position, **section)
            for position, source in enumerate(item["source_summaries"]):
                SourceSummary.objects.create(
                    story=story,
                    position=position,
                    outlet=Outlet.objects.get(slug=source["outlet_slug"]),
                    summary=source["summary"],
                    url=source["url"],
                )
            for position, slug in enumerate(item["entity_slugs"]):
                StoryEntity.objects.create(
                    story=story, entity=entities[slug], position=position
                )
            services.record_save(story=story, by=journalist)
            if item["publish"]:
                services.publish_story(story=story, by=editor)
            created += 1
        return created

    def _attach_hero_image(self, story, hero):
        """Store the demo picture as an upload would be: decoded, re-encoded
        and under a random name, so the demo shows the picture path."""
        with open(CONTENT_PATH.parent / hero["file"], "rb") as file:
            image = clean_image(File(file, name=hero["file"]))
        story.hero_image.save(image.name, image, save=False)
        story.hero_image_alt = hero["alt"]
        story.hero_image_caption = hero["caption"]
        story.hero_image_credit = hero["credit"]
