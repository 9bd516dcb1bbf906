from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import services, workflow
from .images import clean_image
from .models import Correction, Story


class StoryAdminForm(forms.ModelForm):
    # The version the editor loaded; a save carrying an older one is refused.
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Story
        fields = "__all__"  # noqa: DJ007 - StoryAdmin's fieldsets choose
        widgets = {"summary": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.version
            self.fields["loaded_version"].required = True
        self.conflict = None

    def clean_slug(self):
        slug = self.cleaned_data.get("slug")
        taken = Story.objects.exclude(pk=self.instance.pk).filter(public_slug=slug)
        if slug and taken.exists():
            raise ValidationError("Another published story uses this address.")
        return slug

    def clean_loaded_version(self):
        """Lock the story row for the rest of the save and refuse a stale copy.

        The admin validates and saves in one transaction, so the lock held
        from here covers the save of the story and all its inlines."""
        if not self.instance.pk:
            return None
        loaded = self.cleaned_data.get("loaded_version")
        try:
            services.lock_story(story_id=self.instance.pk, expected_version=loaded)
        except services.EditConflict as conflict:
            self.conflict = conflict
            # Re-rendered with the current version: saving again, having seen
            # what changed, replaces it deliberately. Nothing typed is lost.
            self.data = self.data.copy()
            self.data[self.add_prefix("loaded_version")] = str(conflict.story.version)
            raise ValidationError(
                "Someone else changed this story after you opened it: "
                + "; ".join(conflict.changes)
                + ". Your text is still below. Compare it with the story's "
                "history, then save again to replace their version with yours."
            ) from None
        return loaded

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


class WorkflowActionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    scheduled_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In the newsroom's time zone.",
    )
    update_text = forms.CharField(
        required=False,
        max_length=services.UPDATE_LINE_MAX_CHARS,
        label="Update line (optional)",
        help_text="What this republication adds, in one line (“Added Tokyo’s "
        "response”). Listed under “Updated” on the story, dated, and "
        "shown to returning readers.",
    )
    # Updates have their own line above: this is for what was wrong or unclear.
    correction_kind = forms.ChoiceField(
        required=False,
        choices=[("", "No correction")]
        + [c for c in Correction.Kind.choices if c[0] != Correction.Kind.UPDATE],
    )
    correction_text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Shown to readers on the story and on the corrections page.",
    )

    def __init__(self, *args, action, story, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        if action.name in workflow.SCHEDULING_ACTIONS:
            self.fields["scheduled_at"].required = True
            self.fields[
                "scheduled_at"
            ].help_text = f"In the newsroom's time zone, {settings.TIME_ZONE}."
            if story.scheduled_at:
                local = timezone.localtime(story.scheduled_at)
                self.initial.setdefault(
                    "scheduled_at", local.strftime("%Y-%m-%dT%H:%M")
                )
        else:
            del self.fields["scheduled_at"]
        if action.name != "republish" or not story.is_live:
            del self.fields["update_text"]
            del self.fields["correction_kind"]
            del self.fields["correction_text"]
        comment = self.fields["comment"]
        comment.required = action.needs_comment
        comment.label = {
            "unpublish": "Reason for withdrawing",
            "request_changes": "What needs to change",
        }.get(action.name, "Comment (optional)")

    def clean_scheduled_at(self):
        value = self.cleaned_data.get("scheduled_at")
        if value is not None and value <= timezone.now():
            raise ValidationError("Choose a time in the future.")
        return value


class PreviewLinkForm(forms.Form):
    hours = forms.TypedChoiceField(
        coerce=int,
        choices=[(1, "1 hour"), (24, "1 day"), (72, "3 days"), (168, "1 week")],
        initial=24,
        label="Link works for",
    )
