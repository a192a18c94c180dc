"""The form field for a URL an organisation gives as a destination (webhooks, API channels,
bots): read as the sender will read it, refused with the guard's reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.net.destinations import BlockedDestination, check_url, parse_url

REFUSED = _("This address cannot receive webhooks: %(reason)s")


class DestinationURLField(forms.CharField):
    """Checks the URL's form only; `check_destination` (the address) is for the form's
    clean, where it can be skipped for an unchanged URL."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 1000)
        kwargs.setdefault("widget", forms.URLInput)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        url = super().to_python(value) or ""
        if url:
            try:
                parse_url(url)
            except BlockedDestination as exc:
                raise forms.ValidationError(REFUSED, code="invalid",
                                            params={"reason": str(exc)}) from exc
        return url


def check_destination(url: str) -> None:
    """`check_url` for a form: a ValidationError naming the reason."""
    try:
        check_url(url)
    except BlockedDestination as exc:
        raise forms.ValidationError(REFUSED, code="blocked",
                                    params={"reason": str(exc)}) from exc
