"""The forms of the contacts screens."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.contacts.models import IdentityKind


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False,
                              help_text=_("A new name creates the company."))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=20_000,
                            widget=forms.Textarea(attrs={"rows": 5}))
    new_kind = forms.ChoiceField(label=_("Kind"), choices=IdentityKind.choices, required=False)
    new_value = forms.CharField(label=_("New identity"), max_length=320, required=False)
    remove = forms.TypedMultipleChoiceField(label=_("Remove"), coerce=int, required=False)

    def __init__(self, *args: object, identity_ids: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["remove"].choices = [(i, str(i)) for i in identity_ids]  # type: ignore[attr-defined]
