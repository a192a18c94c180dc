"""The portal form's layout (PO-1): which fields, in which order, required or not, and a
dropdown's options. Stored as a list of dicts in `PortalSettings.form_fields`.

Four keys are the ticket's own fields (subject, description, category, priority); the
attachments key takes files; every other key is kept in the ticket's `custom_fields` and
written under the description so the agents read it in the timeline."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from atende.tickets.models import Priority

TEXT, TEXTAREA, DROPDOWN, UPLOAD, PHONE = "text", "textarea", "dropdown", "upload", "phone"
TYPES = ((TEXT, _("Text")), (TEXTAREA, _("Long text")), (DROPDOWN, _("Dropdown")),
         (UPLOAD, _("Files")), (PHONE, _("Phone")))
SUBJECT, DESCRIPTION, CATEGORY, PRIORITY, ATTACHMENTS = (
    "subject", "description", "category", "priority", "attachments")
# The ticket's own fields: their type is fixed, and subject and description are always asked.
BUILT_IN = {SUBJECT: TEXT, DESCRIPTION: TEXTAREA, CATEGORY: DROPDOWN, PRIORITY: DROPDOWN,
            ATTACHMENTS: UPLOAD}
ALWAYS = (SUBJECT, DESCRIPTION)
BUILT_IN_LABELS = {SUBJECT: _("Subject"), DESCRIPTION: _("Description"),
                   CATEGORY: _("Category"), PRIORITY: _("Priority"),
                   ATTACHMENTS: _("Attachments")}


@dataclass
class Field:
    key: str
    type: str
    required: bool = False
    label: str = ""  # empty: the built-in field's translated label
    options: list[str] = field(default_factory=list)  # a custom dropdown's

    @property
    def display_label(self) -> str:
        return self.label or str(BUILT_IN_LABELS.get(self.key, self.key))

    @property
    def built_in(self) -> bool:
        return self.key in BUILT_IN


def defaults() -> list[Field]:
    """The seed's form: Subject, Category, Priority, Description (required), Attachments,
    Equipment, Contact phone (optional)."""
    return [
        Field(SUBJECT, TEXT, required=True),
        Field(CATEGORY, DROPDOWN, required=True),
        Field(PRIORITY, DROPDOWN, required=True),
        Field(DESCRIPTION, TEXTAREA, required=True),
        Field(ATTACHMENTS, UPLOAD),
        Field("equipment", DROPDOWN, label=str(_("Equipment")),
              options=[str(_("Notebook")), str(_("Desktop")), str(_("Printer")),
                       str(_("Phone")), str(_("Other"))]),
        Field("contact_phone", PHONE, label=str(_("Contact phone"))),
    ]


def load(raw: list[dict[str, Any]] | None) -> list[Field]:
    """The stored layout, the defaults when none is stored; subject and description are
    put back (required) if a stored layout lost them."""
    if not raw:
        return defaults()
    fields = []
    for item in raw:
        key, kind = str(item.get("key", "")), str(item.get("type", TEXT))
        if not key:
            continue
        fields.append(Field(key, BUILT_IN.get(key, kind), bool(item.get("required")),
                            str(item.get("label", "")),
                            [str(o) for o in item.get("options", []) if str(o).strip()]))
    keys = {f.key for f in fields}
    for key in ALWAYS:
        if key not in keys:
            fields.insert(0 if key == SUBJECT else len(fields), Field(key, BUILT_IN[key], True))
    for f in fields:
        if f.key in ALWAYS:
            f.required = True
    return fields


def dump(fields: list[Field]) -> list[dict[str, Any]]:
    return [asdict(f) for f in fields]


def priority_options() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Priority.choices]
