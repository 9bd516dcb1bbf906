from django_ckeditor_5.fields import CKEditor5Field

from .sanitize import sanitize_html


class RichTextField(CKEditor5Field):
    """CKEditor 5 HTML, sanitised whenever it is written, whoever wrote it."""

    def pre_save(self, model_instance, add):
        value = sanitize_html(getattr(model_instance, self.attname) or "")
        setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "stories.fields.RichTextField", args, kwargs
