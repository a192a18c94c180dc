"""Small display helpers for the workspace templates."""

from __future__ import annotations

from typing import Any

from django import template

from atende.channels.models import ChannelKind

register = template.Library()


@register.filter
def channel_label(kind: str) -> str:
    """The channel kind as a person reads it ("email" → "E-mail")."""
    try:
        return str(ChannelKind(kind).label)
    except ValueError:
        return kind


@register.simple_tag(takes_context=True)
def query_with(context: Any, **changes: Any) -> str:
    """The current query string with some parameters replaced (empty removes them)."""
    params = context["request"].GET.copy()
    for name, value in changes.items():
        params.pop(name, None)
        if value not in ("", None):
            params[name] = value
    if "page" not in changes:  # another filter starts again from the first page
        params.pop("page", None)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
