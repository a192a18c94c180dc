"""Per-organisation lists the screens print on every request: the queue's filter options
(channels, services, agents) and the ticket screen's (agents, services, custom field
labels, finalization tags). They change only when someone edits the settings, so with a
shared cache (Redis, the scaled profile) they are read from it instead of four queries a
page; see docs/benchmarks-history.md, "the `screens` pass".

Invalidation: every list of an organisation is stored under that organisation's current
*version* token; a save or delete of a row a list shows (see `WATCHED`) replaces the token,
so the next read misses and re-reads the database. The token is replaced at once (later
reads in the same transaction see the change) and again when the transaction commits (a
reader that cached the old rows in between is thrown away with its token).

The embedded profile's cache is per process (several web workers and the task worker each
have their own), so there the lists are read from the database every time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from atende.channels.models import Channel
from atende.tenancy.models import Membership, Service, User
from atende.tickets.models import CustomField, FinalizationTag

# A token stays as long as the cache keeps it; a list at most this long (seconds) if a
# process died between its commit and its on-commit replacement of the token.
LIST_TTL = 600


class Named(NamedTuple):
    """A channel, service or finalization tag as an option prints it."""

    pk: int
    name: str


class Agent(NamedTuple):
    """An active agent as the assignee options print them."""

    user_id: int
    user: str  # str(User): the name, or the e-mail without one


def _channels(org_id: int) -> list[Named]:
    return [Named(*row) for row in Channel.objects.for_org(org_id).order_by("name")
            .values_list("pk", "name")]


def _services(org_id: int) -> list[Named]:
    return [Named(*row) for row in Service.objects.for_org(org_id).filter(is_active=True)
            .order_by("name").values_list("pk", "name")]


def _agents(org_id: int) -> list[Agent]:
    rows = (Membership.objects.for_org(org_id).filter(is_active=True)
            .order_by("user__name", "user__email").values_list("user_id", "user__name",
                                                               "user__email"))
    return [Agent(user_id, name or email) for user_id, name, email in rows]  # as str(User)


def _custom_field_labels(org_id: int) -> dict[str, str]:
    return dict(CustomField.objects.for_org(org_id).values_list("key", "label"))


def _finalization_tags(org_id: int) -> list[Named]:
    return [Named(*row) for row in FinalizationTag.objects.for_org(org_id)
            .filter(is_active=True).order_by("name").values_list("pk", "name")]


READERS: dict[str, Callable[[int], Any]] = {
    "channels": _channels,
    "services": _services,
    "agents": _agents,
    "custom_field_labels": _custom_field_labels,
    "finalization_tags": _finalization_tags,
}


def cache_enabled() -> bool:
    """Only a cache every process shares can be invalidated by a change made in another."""
    configured = getattr(settings, "ATENDE_ORG_LISTS_CACHE", None)
    if configured is not None:
        return bool(configured)
    return str(settings.CACHES["default"]["BACKEND"]).endswith("RedisCache")


def _version_key(org_id: int) -> str:
    return f"org-lists:{org_id}:version"


def org_lists(org_id: int, *names: str) -> dict[str, Any]:
    """The named lists of the organisation (keys of `READERS`): one cache round trip for
    the token and one for the lists when cached; the lists' own queries otherwise."""
    if not cache_enabled():
        return {name: READERS[name](org_id) for name in names}
    version = cache.get(_version_key(org_id))
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(_version_key(org_id), version, None):
            version = cache.get(_version_key(org_id)) or version
    keys = {name: f"org-lists:{org_id}:{version}:{name}" for name in names}
    found = cache.get_many(keys.values())
    lists, missing = {}, {}
    for name, key in keys.items():
        if key in found:
            lists[name] = found[key]
        else:
            lists[name] = missing[key] = READERS[name](org_id)
    if missing:
        cache.set_many(missing, LIST_TTL)
    return lists


def lists_changed(org_ids: Iterable[int]) -> None:
    """Forget the organisations' cached lists, now and again on commit."""
    if not cache_enabled():
        return
    ids = list(org_ids)

    def bump() -> None:
        cache.set_many({_version_key(i): uuid.uuid4().hex for i in ids}, None)

    bump()
    transaction.on_commit(bump)


# The model, and the fields of it the lists print: a save that names other fields only
# (`update_fields`, e.g. an agent's presence or last login) leaves the lists alone.
WATCHED: dict[type[Model], frozenset[str]] = {
    Channel: frozenset({"name", "organization"}),
    Service: frozenset({"name", "is_active", "organization"}),
    Membership: frozenset({"user", "is_active", "organization"}),
    User: frozenset({"name", "email"}),
    CustomField: frozenset({"key", "label", "organization"}),
    FinalizationTag: frozenset({"name", "is_active", "organization"}),
}


def _on_change(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if fields is not None and not (set(fields) & WATCHED[sender]):
        return
    if not cache_enabled():
        return
    if isinstance(instance, User):
        lists_changed(Membership.objects.filter(user_id=instance.pk)
                      .values_list("organization_id", flat=True))
    else:
        lists_changed([instance.organization_id])  # type: ignore[attr-defined]


def connect_signals() -> None:
    for model in WATCHED:
        post_save.connect(_on_change, sender=model, dispatch_uid=f"org-lists-{model.__name__}")
        post_delete.connect(_on_change, sender=model,
                            dispatch_uid=f"org-lists-del-{model.__name__}")
