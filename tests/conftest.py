import pytest
from django.contrib.auth.models import Group


def _staff(django_user_model, username, group):
    user = django_user_model.objects.create_user(
        username=username,
        password="correct-horse-battery-staple",
        email=f"{username}@example.com",
        first_name=username.title(),
        is_staff=True,
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def reporter(db, django_user_model):
    """A journalist: writes stories, may not publish."""
    return _staff(django_user_model, "reporter", "Journalists")


@pytest.fixture
def editor(db, django_user_model):
    """An editor: may publish and unpublish."""
    return _staff(django_user_model, "editor", "Editors")


@pytest.fixture
def reader(client):
    """An anonymous reader."""
    return client


@pytest.fixture(autouse=True)
def _media_and_static(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The hashed manifest only exists after collectstatic, a deploy step.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(autouse=True)
def _no_prepared_statements_left(django_db_blocker):
    """Each test starts without prepared statements: a test that drops them
    (DEALLOCATE ALL, as a pooler's reset does) or alters a column they read
    would leave other pages' statements lost inside a later test's
    transaction, where, by design, the error stands."""
    from django.db import connection

    from stories import prepared, story_page

    if connection.vendor == "postgresql" and connection.connection is not None:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
    story_page._prepared_on.clear()
    prepared.forget_all()


@pytest.fixture(autouse=True)
def _no_real_broker(request, monkeypatch):
    """Tests enqueue into a stub unless they start a real worker."""
    if request.node.get_closest_marker("celery_worker"):
        return
    from stories import tasks

    monkeypatch.setattr(tasks.notify_transition_task, "delay", lambda *args: None)


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_webhook_broker(request, monkeypatch):
    if request.node.get_closest_marker("celery_worker"):
        return
    from stories import tasks

    monkeypatch.setattr(tasks.deliver_webhook_task, "delay", lambda *args: None)


@pytest.fixture(autouse=True)
def _no_suggestion_broker(request, monkeypatch):
    if request.node.get_closest_marker("celery_worker"):
        return
    from stories import tasks

    monkeypatch.setattr(tasks.suggest_entities_task, "delay", lambda *args: None)


@pytest.fixture(autouse=True)
def _no_baking_broker(request, monkeypatch):
    if request.node.get_closest_marker("celery_worker"):
        return
    from stories import tasks

    monkeypatch.setattr(tasks.bake_story_pages_task, "delay", lambda *args: None)
