import pytest
from django.core.management import CommandError, call_command

from entities.models import Entity
from stories.explainer_format import MalformedDocument
from stories.models import FAQ, Outlet, Section, Story
from stories.services import import_explainer
from tests.entities.factories import EntityFactory
from tests.stories.explainers import DOCUMENTS, SEED, needs_seed


@needs_seed
@pytest.mark.django_db
def test_seed_imports_as_a_draft_with_every_part():
    result = import_explainer(
        raw=SEED.read_bytes(), headline="Japan speeds up defence spending"
    )
    story = result.story
    assert result.created
    assert story.status == Story.Status.DRAFT
    assert story.headline == "Japan speeds up defence spending"
    assert not story.headline_needs_review
    assert story.sections.count() == 5
    assert list(story.source_summaries.values_list("outlet__slug", flat=True)) == [
        "japan-times",
        "independent",
        "south-china-morning-post",
        "bloomberg-news",
    ]
    scmp = story.source_summaries.get(outlet__slug="south-china-morning-post")
    assert "The South China Morning Post emphasizes" in scmp.summary
    assert (
        story.faqs.get().question == "Why Is Japan Increasing Its Military Budget Now?"
    )
    assert [
        link.entity.name for link in story.storyentity_set.select_related("entity")
    ] == [
        "Peter Brian Hegseth",
        "Sanae Takaichi",
        "Donald John Trump",
        "Japan",
    ]


@needs_seed
@pytest.mark.django_db
def test_seed_person_is_matched_to_an_existing_entity_through_its_aliases():
    hegseth = EntityFactory(name="Pete Hegseth", aliases="Peter Brian Hegseth\nHegseth")
    story = import_explainer(raw=SEED.read_bytes()).story
    assert story.entities.filter(pk=hegseth.pk).exists()
    assert not Entity.objects.filter(name="Peter Brian Hegseth").exists()


@needs_seed
@pytest.mark.django_db
def test_new_entities_from_blurbs_are_flagged_for_review_with_whole_sentences():
    import_explainer(raw=SEED.read_bytes())
    hegseth = Entity.objects.get(name="Peter Brian Hegseth")
    assert hegseth.needs_review
    assert hegseth.kind == Entity.Kind.PERSON
    assert Entity.objects.get(name="Japan").kind == Entity.Kind.PLACE
    assert "publi" not in hegseth.biography
    assert hegseth.short_description.endswith("secretary of defense.")


@needs_seed
@pytest.mark.django_db
def test_without_a_headline_one_is_derived_and_flagged():
    story = import_explainer(raw=SEED.read_bytes()).story
    assert story.headline_needs_review
    assert story.headline.startswith("U.S. officials, including Hegseth, visited Japan")
    assert len(story.headline) <= 111


@pytest.mark.django_db
def test_importing_the_same_document_twice_does_not_duplicate():
    raw = (DOCUMENTS / "brazil_amazon.txt").read_bytes()
    first = import_explainer(raw=raw)
    second = import_explainer(raw=raw.replace(b"\n", b"\r\n"))
    assert not second.created
    assert second.story == first.story
    assert Story.objects.count() == 1
    assert FAQ.objects.count() == 2


@pytest.mark.django_db
def test_existing_faq_is_linked_not_duplicated():
    existing = FAQ.objects.create(
        question="Is this different from carbon credits?", answer="<p>Yes.</p>"
    )
    story = import_explainer(raw=(DOCUMENTS / "brazil_amazon.txt").read_bytes()).story
    assert story.faqs.filter(pk=existing.pk).exists()
    assert FAQ.objects.filter(question__iexact=existing.question).count() == 1


@pytest.mark.django_db
def test_outlets_match_ignoring_case_accents_and_a_leading_the():
    Outlet.objects.create(name="The Daily Planet", short_forms="Planet")
    story = import_explainer(raw=(DOCUMENTS / "brazil_amazon.txt").read_bytes()).story
    slugs = set(story.source_summaries.values_list("outlet__slug", flat=True))
    assert {
        "reuters",
        "folha-de-s-paulo",
        "le-monde",
        "el-pais",
        "daily-planet",
    } <= slugs


@pytest.mark.django_db
def test_outlets_missing_from_the_registry_are_reported():
    result = import_explainer(raw=(DOCUMENTS / "brazil_amazon.txt").read_bytes())
    assert any("The Daily Planet" in w for w in result.warnings)


@pytest.mark.django_db
def test_imported_rich_text_is_escaped_not_executed():
    raw = (
        (DOCUMENTS / "brazil_amazon.txt")
        .read_bytes()
        .replace(b"Critics argue", b"<script>alert(1)</script> Critics argue")
    )
    story = import_explainer(raw=raw).story
    body = story.sections.first().body
    assert "<script>" not in body
    assert "&lt;script&gt;" in body


@pytest.mark.django_db
def test_malformed_document_saves_nothing():
    with pytest.raises(MalformedDocument):
        import_explainer(raw=(DOCUMENTS / "malformed_question.txt").read_bytes())
    assert not Story.objects.exists()
    assert not Section.objects.exists()
    assert not FAQ.objects.exists()
    assert not Entity.objects.exists()


@pytest.mark.django_db
def test_command_imports_good_files_and_refuses_bad_ones_with_reasons(capsys):
    files = [
        DOCUMENTS / "brazil_amazon.txt",
        DOCUMENTS / "not_utf8.txt",
        DOCUMENTS / "empty.txt",
        DOCUMENTS / "malformed_order.txt",
    ]
    with pytest.raises(CommandError, match="3 of 4 files were refused"):
        call_command("import_story", *map(str, files))
    out, err = capsys.readouterr()
    assert Story.objects.count() == 1
    assert "[1/4]" in out and "imported as draft" in out
    assert "1 imported, 0 already present, 3 refused." in out
    assert "not_utf8.txt: refused: line 2: the file is not valid UTF-8" in err
    assert "empty.txt: refused: the file is empty" in err


@pytest.mark.django_db
def test_command_reports_documents_already_present(capsys):
    path = str(DOCUMENTS / "brazil_amazon.txt")
    call_command("import_story", path)
    call_command("import_story", path)
    assert "0 imported, 1 already present, 0 refused." in capsys.readouterr().out


@pytest.mark.django_db
def test_command_refuses_a_missing_file_by_name(capsys):
    with pytest.raises(CommandError):
        call_command("import_story", "/nonexistent/story.txt")
    assert "/nonexistent/story.txt: refused" in capsys.readouterr().err


def test_command_headline_needs_a_single_file():
    with pytest.raises(CommandError, match="single file"):
        call_command("import_story", "a.txt", "b.txt", headline="One headline")


def _database_url(settings_dict) -> str:
    """The URL of the database tests run against, for a subprocess."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    return (
        f"postgres://{settings_dict['USER']}{password}@{settings_dict['HOST']}"
        f":{settings_dict['PORT']}/{settings_dict['NAME']}"
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_documented_make_import_works_on_a_fresh_checkout_for_several_files(
    tmp_path,
):
    """README: `make import FILE="..."`. The command make runs, as a fresh
    clone has it: no DEBUG or SECRET_KEY in the environment."""
    import os
    import shlex
    import subprocess

    from django.conf import settings
    from django.db import connection

    from tests.stories.explainers import MINIMAL

    minimal = tmp_path / "minimal.txt"
    minimal.write_text(MINIMAL)
    files = [str(DOCUMENTS / "brazil_amazon.txt"), str(minimal)]
    root = settings.BASE_DIR
    dry_run = subprocess.run(
        ["make", "-n", "import", f"FILE={shlex.join(files)}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (command,) = [line for line in dry_run.splitlines() if "import_story" in line]
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment["DATABASE_URL"] = _database_url(connection.settings_dict)
    result = subprocess.run(
        ["sh", "-c", command],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "2 imported" in result.stdout
    assert Story.objects.filter(status=Story.Status.DRAFT).count() == 2


def test_make_import_without_files_says_how_to_use_it():
    import subprocess

    from django.conf import settings

    result = subprocess.run(
        ["make", "import"], cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert 'Usage: make import FILE="explainer.txt' in result.stderr
