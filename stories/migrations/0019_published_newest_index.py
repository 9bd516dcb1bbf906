"""Home and the feed read published stories newest first off a partial
index, and count their pagination's next 200 stories from it alone."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("stories", "0018_live_topic_version")]

    operations = [
        migrations.AddIndex(
            model_name="story",
            index=models.Index(
                condition=models.Q(
                    ("live_revision__isnull", False),
                    ("public_slug__isnull", False),
                    ("status", "published"),
                ),
                fields=["-last_published_at", "-id"],
                name="stories_story_published_newest",
            ),
        ),
    ]
