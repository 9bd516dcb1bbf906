"""Uploaded images are decoded, checked and re-encoded before storage, so a
file that only claims to be an image (or carries metadata) never reaches disk."""

import io
import uuid
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageOps

# Format Pillow detected -> (format to write, extension, content type).
ALLOWED_FORMATS = {
    "JPEG": ("JPEG", "jpg", "image/jpeg"),
    "PNG": ("PNG", "png", "image/png"),
    "WEBP": ("WEBP", "webp", "image/webp"),
    "GIF": ("PNG", "png", "image/png"),
}


def clean_image(upload) -> SimpleUploadedFile:
    """Return a re-encoded copy of upload under a random name, or raise
    ValidationError saying why it was refused."""
    if upload.size > settings.IMAGE_UPLOAD_MAX_BYTES:
        limit = settings.IMAGE_UPLOAD_MAX_BYTES // (1024 * 1024)
        raise ValidationError(f"The image is larger than {limit} MB.")
    Image.MAX_IMAGE_PIXELS = settings.IMAGE_UPLOAD_MAX_PIXELS
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as probe:
                detected = probe.format
                probe.verify()
            upload.seek(0)
            image = Image.open(upload)
            if image.width * image.height > settings.IMAGE_UPLOAD_MAX_PIXELS:
                raise ValidationError("The image has too many pixels.")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError("The image has too many pixels.") from None
    except ValidationError:
        raise
    except Exception:
        raise ValidationError("The file is not an image that can be read.") from None
    if detected not in ALLOWED_FORMATS:
        raise ValidationError("Use a JPEG, PNG, WebP or GIF image.")
    out_format, extension, content_type = ALLOWED_FORMATS[detected]
    image = ImageOps.exif_transpose(image)
    if out_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif out_format != "JPEG" and image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    buffer = io.BytesIO()
    # Writing a fresh image drops EXIF, GPS and other metadata.
    image.save(buffer, format=out_format, quality=85, optimize=True)
    return SimpleUploadedFile(
        f"{uuid.uuid4().hex}.{extension}", buffer.getvalue(), content_type=content_type
    )


RENDITION_WIDTHS = (480, 800, 1200, 1600)
# Modern formats first: browsers take the first <source> they understand.
RENDITION_FORMATS = (("AVIF", "avif", "image/avif"), ("WEBP", "webp", "image/webp"))


def make_renditions(name: str) -> dict:
    """Resized copies of a stored image for srcset, in AVIF, WebP and the
    original format; returns their URLs by type, plus the original size.

    Files are named after the source and width, so calling again reuses
    them: publishing twice encodes nothing twice.
    """
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import features

    with default_storage.open(name) as handle:
        original = Image.open(handle)
        original.load()
    width, height = original.size
    base, _, extension = name.rpartition(".")
    fallback = (
        ("JPEG", "jpg", "image/jpeg")
        if extension == "jpg"
        else ("PNG", "png", "image/png")
    )
    formats = [f for f in RENDITION_FORMATS if features.check(f[1])] + [fallback]
    widths = sorted({w for w in RENDITION_WIDTHS if w < width} | {width})
    # Lists, not a dict keyed by type: PostgreSQL's jsonb does not keep key
    # order, and browsers take the first <source> they understand.
    sources = []
    for pillow_format, suffix, content_type in formats:
        entries = []
        for target in widths:
            path = f"{base}-{target}w.{suffix}"
            if not default_storage.exists(path):
                copy = (
                    original
                    if target == width
                    else original.resize(
                        (target, round(height * target / width)),
                        Image.Resampling.LANCZOS,
                    )
                )
                if pillow_format == "JPEG" and copy.mode not in ("RGB", "L"):
                    copy = copy.convert("RGB")
                buffer = io.BytesIO()
                copy.save(buffer, format=pillow_format, quality=80)
                default_storage.save(path, ContentFile(buffer.getvalue()))
            entries.append({"url": default_storage.url(path), "width": target})
        sources.append({"type": content_type, "srcset": entries})
    return {
        "width": width,
        "height": height,
        "sources": sources[:-1],
        "fallback": sources[-1]["srcset"],
    }
