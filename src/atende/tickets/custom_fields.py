"""Validating ticket custom-field values against the organisation's definitions."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from atende.tickets.errors import TicketError
from atende.tickets.models import CustomField, CustomFieldType


def _coerce(field: CustomField, value: Any) -> Any:
    if value is None or value == "":
        return None
    kind = field.type
    if kind == CustomFieldType.TEXT:
        if not isinstance(value, str | int | float):
            raise ValueError
        return str(value)[:2000]
    if kind == CustomFieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == CustomFieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError
        return value
    if kind == CustomFieldType.CHOICE:
        if value not in field.choices:
            raise ValueError
        return value
    if kind == CustomFieldType.DATE:
        return datetime.date.fromisoformat(str(value)).isoformat()
    raise ValueError


def validate_custom_fields(
    organization_id: int, values: dict[str, Any], *, current: dict[str, Any] | None = None,
    partial: bool = False,
) -> dict[str, Any]:
    """Return the merged, coerced values; raise TicketError naming the first bad field."""
    definitions = {f.key: f for f in CustomField.objects.for_org(organization_id)}
    result = dict(current or {})
    for key, value in values.items():
        field = definitions.get(key)
        if field is None:
            raise TicketError(_("Unknown custom field “%(key)s”.") % {"key": key},
                              field=f"custom_fields.{key}")
        try:
            coerced = _coerce(field, value)
        except (ValueError, TypeError):
            raise TicketError(
                _("Invalid value for “%(label)s”.") % {"label": field.label},
                field=f"custom_fields.{key}",
            ) from None
        if coerced is None:
            result.pop(key, None)
        else:
            result[key] = coerced
    if not partial:
        for key, field in definitions.items():
            if field.required and key not in result:
                raise TicketError(_("“%(label)s” is required.") % {"label": field.label},
                                  field=f"custom_fields.{key}")
    return result
