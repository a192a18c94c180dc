"""The portal's forms: the accounts' and the ticket form built from the stored layout."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from atende.connectors.portal import form_fields
from atende.connectors.portal.form_fields import Field

MAX_FILES = 10
PHONE = RegexValidator(r"^\+?[0-9 ()\-]{8,20}$", _("Enter a phone number, e.g. +55 11 91234-5678."))


class SignUpForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label=_("E-mail"),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class SignInForm(EmailForm):
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}))


class PasswordForm(forms.Form):
    password = forms.CharField(label=_("Password"), strip=False, min_length=10,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("At least 10 characters."))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(files) > MAX_FILES:
            raise forms.ValidationError(_("Send at most %(count)d files.") % {"count": MAX_FILES})
        cleaned = [super(MultipleFileField, self).clean(f, initial) for f in files]
        for f in cleaned:
            if f.size > settings.ATTACHMENT_MAX_BYTES:
                raise forms.ValidationError(_("The file is larger than %(limit)d MB.") % {
                    "limit": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)})
        return cleaned


def _choices(options: list[str] | list[tuple[str, str]]) -> list[tuple[str, str]]:
    pairs = [(o, o) if isinstance(o, str) else o for o in options]
    return [("", "—"), *pairs]


def _form_field(field: Field, categories: list[str]) -> forms.Field:
    common: dict[str, Any] = {"label": field.display_label, "required": field.required}
    if field.key == form_fields.PRIORITY:
        return forms.ChoiceField(choices=_choices(form_fields.priority_options()), **common)
    if field.key == form_fields.CATEGORY:
        return forms.ChoiceField(choices=_choices(categories), **common)
    if field.type == form_fields.DROPDOWN:
        return forms.ChoiceField(choices=_choices(field.options), **common)
    if field.type == form_fields.TEXTAREA:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=20000,
                               **common)
    if field.type == form_fields.UPLOAD:
        return MultipleFileField(**common)
    if field.type == form_fields.PHONE:
        return forms.CharField(max_length=20, validators=[PHONE], widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel"}), **common)
    max_length = 300 if field.key == form_fields.SUBJECT else 500
    return forms.CharField(max_length=max_length, **common)


class TicketForm(forms.Form):
    """The organisation's layout as a form; `submission` makes a double submit one ticket."""

    submission = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, layout: list[Field], categories: list[str], *args: Any,
                 **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("submission", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.layout = layout
        for field in layout:
            # A category the organisation has none of yet cannot be required.
            if field.key == form_fields.CATEGORY and not categories:
                continue
            self.fields[f"f_{field.key}"] = _form_field(field, categories)

    def values(self) -> dict[str, Any]:
        """The answers by layout key (files apart)."""
        return {f.key: self.cleaned_data.get(f"f_{f.key}") for f in self.layout
                if f"f_{f.key}" in self.fields and f.type != form_fields.UPLOAD}

    def uploads(self) -> list[UploadedFile]:
        files: list[UploadedFile] = []
        for f in self.layout:
            if f.type == form_fields.UPLOAD and f"f_{f.key}" in self.fields:
                files.extend(self.cleaned_data.get(f"f_{f.key}") or [])
        return files


class CommentForm(forms.Form):
    submission = forms.UUIDField(widget=forms.HiddenInput)
    text = forms.CharField(label=_("Your comment"), max_length=20000, required=False,
                           widget=forms.Textarea(attrs={"rows": 4}))
    attachments = MultipleFileField(label=_("Files"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("submission", uuid.uuid4())
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not (cleaned.get("text") or "").strip() and not cleaned.get("attachments"):
            raise forms.ValidationError(_("Write a comment or attach a file."))
        return cleaned
