from django import forms

from .images import clean_image
from .models import Story


class StoryAdminForm(forms.ModelForm):
    class Meta:
        model = Story
        fields = "__all__"
        widgets = {"summary": forms.Textarea(attrs={"rows": 4})}

    def clean_hero_image(self):
        image = self.cleaned_data.get("hero_image")
        # Only a newly uploaded file needs checking; a kept one already was.
        if image and hasattr(image, "content_type"):
            return clean_image(image)
        return image

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("hero_image") and not cleaned.get("hero_image_alt", "").strip():
            self.add_error(
                "hero_image_alt", "Describe the image for readers who cannot see it."
            )
        return cleaned


class EditorImageUploadForm(forms.Form):
    upload = forms.FileField()

    def clean_upload(self):
        return clean_image(self.cleaned_data["upload"])
