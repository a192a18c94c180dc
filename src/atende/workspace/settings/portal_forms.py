"""The portal's settings forms: the ticket form's layout (one row per field: add, remove,
reorder, required, dropdown options) and the portal's options and appearance."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from atende.connectors.portal import form_fields
from atende.connectors.portal.form_fields import Field
from atende.connectors.portal.models import PortalSettings

LOGO_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}
LOGO_MAX_BYTES = 512 * 1024


class LayoutFieldForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, required=False)
    label = forms.CharField(label=_("Label"), max_length=100, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=form_fields.TYPES)
    required = forms.BooleanField(label=_("Required"), required=False)
    options = forms.CharField(label=_("Options"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("One per line; for a dropdown."))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        key = cleaned.get("key") or ""
        if key in form_fields.BUILT_IN:
            return cleaned
        if not cleaned.get("label") and (self.has_changed() or key):
            self.add_error("label", _("Give the field a label."))
        if cleaned.get("type") == form_fields.DROPDOWN and not self._options(cleaned):
            self.add_error("options", _("A dropdown needs at least one option."))
        return cleaned

    @staticmethod
    def _options(cleaned: dict[str, Any]) -> list[str]:
        return [o.strip() for o in str(cleaned.get("options") or "").splitlines() if o.strip()]

    def to_field(self, taken: set[str]) -> Field:
        cleaned = self.cleaned_data
        key = cleaned.get("key") or ""
        if not key:  # a new field: a key from its label, unique in the layout
            base = slugify(cleaned["label"]).replace("-", "_")[:40] or "field"
            key, n = base, 2
            while key in taken or key in form_fields.BUILT_IN:
                key, n = f"{base}_{n}", n + 1
        kind = form_fields.BUILT_IN.get(key, cleaned["type"])
        return Field(key, kind, bool(cleaned.get("required")),
                     "" if key in form_fields.BUILT_IN and not cleaned.get("label")
                     else cleaned.get("label") or "",
                     self._options(cleaned) if kind == form_fields.DROPDOWN
                     and key not in form_fields.BUILT_IN else [])


class BaseLayoutFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        for form in self.forms:
            key = form.cleaned_data.get("key")
            if key in form_fields.ALWAYS and form.cleaned_data.get("DELETE"):
                raise forms.ValidationError(_("Subject and description are always asked."))

    def layout(self) -> list[Field]:
        fields: list[Field] = []
        for form in self.ordered_forms:  # type: ignore[attr-defined]
            if not form.has_changed() and not form.cleaned_data.get("key"):
                continue  # the empty extra row
            fields.append(form.to_field({f.key for f in fields}))
        return fields


LayoutFormSet: type[BaseLayoutFormSet] = forms.formset_factory(  # type: ignore[assignment]
    LayoutFieldForm, formset=BaseLayoutFormSet, extra=1, can_order=True, can_delete=True)


def layout_initial(fields: list[Field]) -> list[dict[str, Any]]:
    return [{"key": f.key, "label": f.label or (f.display_label if f.built_in else ""),
             "type": f.type, "required": f.required, "options": "\n".join(f.options),
             "ORDER": n + 1} for n, f in enumerate(fields)]


class ColorInput(forms.TextInput):
    input_type = "color"


class PortalOptionsForm(forms.ModelForm):
    class Meta:
        model = PortalSettings
        fields = ["reopen_days", "primary_color", "secondary_color", "welcome_title",
                  "welcome_text", "logo", "favicon"]
        widgets = {"primary_color": ColorInput, "secondary_color": ColorInput,
                   "welcome_text": forms.Textarea(attrs={"rows": 3})}

    def clean_primary_color(self) -> str:
        return self._color("primary_color")

    def clean_secondary_color(self) -> str:
        return self._color("secondary_color")

    def _color(self, name: str) -> str:
        value = str(self.cleaned_data[name]).lower()
        from atende.connectors.portal.appearance import HEX
        if not HEX.match(value):
            raise forms.ValidationError(_("Use a colour such as #1f4e8c."))
        return value

    def clean_logo(self) -> Any:
        return self._image("logo")

    def clean_favicon(self) -> Any:
        return self._image("favicon")

    def _image(self, name: str) -> Any:
        image = self.cleaned_data.get(name)
        if image and hasattr(image, "content_type"):  # a new upload
            # No SVG: a script in it would run on the portal's origin.
            if image.content_type not in LOGO_TYPES:
                raise forms.ValidationError(_("Upload a PNG, JPEG, WebP or GIF image."))
            if image.size > LOGO_MAX_BYTES:
                raise forms.ValidationError(_("The image must be at most 512 KB."))
        return image
