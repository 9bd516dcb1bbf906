"""Uploaded images are decoded, checked and re-encoded before storage."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from stories.images import clean_image


def upload(image, fmt, name="upload", **save):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return SimpleUploadedFile(f"{name}.{fmt.lower()}", buffer.getvalue())


def test_metadata_is_stripped_and_the_name_is_random():
    image = Image.new("RGB", (64, 48), (10, 20, 30))
    exif = Image.Exif()
    exif[0x010F] = "Secret Camera Maker"  # Make
    exif[0x0131] = "Editing Software 1.0"  # Software
    original = upload(image, "JPEG", name="holiday", exif=exif.tobytes())
    with Image.open(io.BytesIO(original.read())) as sent:
        assert sent.getexif()[0x010F] == "Secret Camera Maker"
    original.seek(0)
    cleaned = clean_image(original)
    assert "holiday" not in cleaned.name and cleaned.name.endswith(".jpg")
    with Image.open(io.BytesIO(cleaned.read())) as stored:
        assert not stored.getexif()
        assert stored.size == (64, 48)


def test_a_decompression_bomb_is_refused(settings):
    settings.IMAGE_UPLOAD_MAX_PIXELS = 1_000_000
    # Tiny on disk, huge once decoded.
    bomb = upload(Image.new("1", (4000, 4000)), "PNG", optimize=True)
    assert bomb.size < 20_000
    with pytest.raises(ValidationError, match="too many pixels"):
        clean_image(bomb)


def test_a_file_that_only_claims_to_be_an_image_is_refused():
    fake = SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff\xe0<script>alert(1)</script>")
    with pytest.raises(ValidationError, match="not an image"):
        clean_image(fake)


def test_formats_outside_the_allow_list_are_refused():
    with pytest.raises(ValidationError, match="JPEG, PNG, WebP or GIF"):
        clean_image(upload(Image.new("RGB", (8, 8)), "BMP"))


def test_oversized_files_are_refused(settings):
    settings.IMAGE_UPLOAD_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="larger than"):
        clean_image(upload(Image.new("RGB", (64, 64), (1, 2, 3)), "PNG"))
