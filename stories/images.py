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
