import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def png_upload(name="image.png", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
