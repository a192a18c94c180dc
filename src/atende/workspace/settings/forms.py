"""Forms of the settings screens. Every form is bound to one organisation: the row it saves
belongs to it, and every choice it offers (services, profiles) comes from it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from atende.connectors.portal.models import Category
from atende.tenancy.models import AccessProfile, Organization, Permission, Service
from atende.tickets.models import CustomField, CustomFieldType, FinalizationTag, Tag

LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]


class TenantModelForm(forms.ModelForm):
    """A ModelForm whose instance belongs to `organization`, with choices limited to it.

    The organisation is not a form field, so Django would skip the (organization, name)
    unique constraints; they are checked here so a duplicate is a form error, not a crash.
    """

    def __init__(self, organization: Organization, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.instance.organization = organization
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and hasattr(queryset.model, "organization_id"):
                field.queryset = queryset.filter(organization=organization)  # type: ignore[attr-defined]

    def validate_unique(self) -> None:  # type: ignore[override]
        exclude = self._get_validation_exclusions()  # type: ignore[attr-defined]
        exclude.discard("organization")
        try:
            self.instance.validate_unique(exclude=exclude)
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as exc:
            self._update_errors(exc)  # type: ignore[attr-defined]


class OrganizationForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES)

    class Meta:
        model = Organization
        fields = ["name", "timezone", "language"]

    def clean_timezone(self) -> str:
        import zoneinfo

        value: str = self.cleaned_data["timezone"]
        if value not in zoneinfo.available_timezones():
            raise ValidationError(_("Unknown time zone, e.g. America/Sao_Paulo."))
        return value


class ServiceForm(TenantModelForm):
    class Meta:
        model = Service
        fields = ["name", "description", "auto_assign", "business_calendar"]


class AccessProfileForm(TenantModelForm):
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"), choices=Permission.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = AccessProfile
        fields = ["name", "permissions"]


class TagForm(TenantModelForm):
    class Meta:
        model = Tag
        fields = ["name"]


class FinalizationTagForm(TenantModelForm):
    class Meta:
        model = FinalizationTag
        fields = ["name"]


class CustomFieldForm(TenantModelForm):
    choices_text = forms.CharField(
        label=_("Choices"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line; only for the \"Choice\" type."),
    )

    class Meta:
        model = CustomField
        fields = ["label", "key", "type", "required"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["choices_text"].initial = "\n".join(self.instance.choices)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choices = [c.strip() for c in data.get("choices_text", "").splitlines() if c.strip()]
        if data.get("type") == CustomFieldType.CHOICE and not choices:
            self.add_error("choices_text", _("Give at least one choice."))
        self.instance.choices = choices if data.get("type") == CustomFieldType.CHOICE else []
        return data


class CategoryForm(TenantModelForm):
    class Meta:
        model = Category
        fields = ["name", "position"]
