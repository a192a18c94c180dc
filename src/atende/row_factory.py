"""New model instances for the rows a batched ingest writes, without `Model.__init__`.

A batch of 100 mails builds some 800 instances (tickets, messages, audit entries, thread
references, contacts, events, outbox rows) that only `bulk_insert` reads. `Model.__init__`
spent 9-15 µs on each (11 % of the e-mail ingest's CPU, `bench/email_ingest.py` under
py-spy): signals sent to nobody, every field's default looked up through the field, every
related object through its descriptor and the router. `row_factory(Model)(**values)` makes
the same instance: defaults computed once per model where they are constants (called per
row where the default is callable), related instances set and cached as the descriptor
does, `_state.db` as the router would choose it. tests/test_row_factory.py compares both
on every model built this way.

It takes keyword arguments naming concrete fields (a related one by name, with an instance
or None, or by attname, with an id). Anything else, or a model or project this does not
cover (init signals with receivers, database routers, multi-table inheritance, one-to-one
fields), goes through the model's own constructor.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, router
from django.db.models import Model, OneToOneField
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

# Defaults that cannot be changed in place: one value serves every row.
_IMMUTABLE = (type(None), str, int, float, bool, Decimal, bytes)


@cache
def row_factory[M: Model](model: type[M]) -> Callable[..., M]:
    """A constructor equivalent to `model(**values)` for keyword arguments naming concrete
    fields (see the module's docstring)."""
    meta = model._meta
    if (meta.abstract or meta.parents or router.routers
            or pre_init.has_listeners(model) or post_init.has_listeners(model)
            or any(isinstance(f, OneToOneField) for f in meta.concrete_fields)):
        return model
    constant: dict[str, Any] = {}
    per_row: list[tuple[str, Callable[[], Any]]] = []
    plain: dict[str, str] = {}  # keyword → attname
    related: dict[str, tuple[str, str, str, type[Model]]] = {}
    for field in meta.concrete_fields:
        if field.generated:
            continue
        attname = field.attname
        if field.has_default() and callable(field.default):
            per_row.append((attname, field.get_default))
        else:
            default = field.get_default()
            if isinstance(default, _IMMUTABLE):  # also a TextChoices member
                constant[attname] = default
            else:
                per_row.append((attname, field.get_default))
        plain[attname] = attname
        if field.is_relation:
            target: str = field.target_field.attname  # type: ignore[attr-defined]
            remote: type[Model] = field.remote_field.model._meta.concrete_model  # type: ignore[union-attr,assignment]
            cache_name: str = field.cache_name  # type: ignore[attr-defined]
            related[field.name] = (attname, cache_name, target, remote)
        else:
            plain[field.name] = attname

    known = frozenset(plain) | frozenset(related)

    def make(**values: Any) -> M:
        if not values.keys() <= known:
            return model(**values)
        obj = cast(M, Model.__new__(model))
        state = ModelState()
        fields = obj.__dict__
        fields["_state"] = state
        fields.update(constant)
        for attname, default in per_row:
            if attname not in values:  # else set below: `timezone.now` called for nothing
                fields[attname] = default()
        for name, value in values.items():
            relation = related.get(name)
            if relation is None:
                fields[plain[name]] = value
                continue
            attname, cache_name, target, remote = relation
            if value is None:
                fields[attname] = None
            else:
                if not isinstance(value, remote):
                    return model(**values)  # the descriptor's own error
                # What ForwardManyToOneDescriptor.__set__ and the router (none) do.
                if state.db is None:
                    state.db = value._state.db or DEFAULT_DB_ALIAS
                if value._state.db is None:
                    value._state.db = state.db
                if value._state.db != state.db:
                    return model(**values)
                fields[attname] = getattr(value, target)
            state.fields_cache[cache_name] = value
        return obj

    return make
