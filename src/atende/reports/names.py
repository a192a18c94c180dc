"""Labels for the groups of a report (channels, services, agents, categories, tags)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from atende.channels.models import Channel
from atende.tenancy.models import Service, User
from atende.tickets.models import FinalizationTag


def channel_names(organization_id: int) -> dict[int, str]:
    names = dict(Channel.objects.for_org(organization_id).values_list("pk", "name"))
    return {0: _("No channel"), **names}


def service_names(organization_id: int) -> dict[int, str]:
    names = dict(Service.objects.for_org(organization_id).values_list("pk", "name"))
    return {0: _("No service"), **names}


def label(names: dict[int, str], ident: int) -> str:
    return names.get(ident) or _("Deleted (#%(id)s)") % {"id": ident}


def key_labels(organization_id: int, dimension: str, keys: Iterable[str]) -> dict[str, str]:
    keys = set(keys)
    ids = [int(k) for k in keys if k.isdigit()]
    if dimension == "agent":
        found = {str(u.pk): str(u) for u in User.objects.filter(pk__in=ids)}
        blank = _("Unassigned")
    elif dimension == "tag":
        found = {str(pk): name for pk, name in FinalizationTag.objects.for_org(organization_id)
                 .filter(pk__in=ids).values_list("pk", "name")}
        blank = _("No finalization tag")
    else:
        found = {k: k for k in keys}
        blank = _("No category")
    return {k: (blank if k == "" else found.get(k, _("Deleted (#%(id)s)") % {"id": k}))
            for k in keys}
