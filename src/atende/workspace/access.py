"""Who may see which screen: every workspace view is for a signed-in agent of the
organisation chosen for the session; a settings screen also needs the permission that
guards it (docs/permissions.md)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone

from atende.tenancy.access import active_membership, pending_invitations
from atende.tenancy.models import Membership, Permission

View = Callable[..., HttpResponseBase]


class AgentRequest(HttpRequest):
    """A request that passed `agent_required`: it carries the agent's membership."""

    membership: Membership


def agent_required(view: View) -> View:
    """Sign-in page for anonymous users, 403 for users in no organisation; otherwise
    `request.membership` is set."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        membership = active_membership(request)
        if membership is None:
            if pending_invitations(request):
                return redirect("workspace:invitations")
            if request.user.is_authenticated:
                # Signed in but in no organisation (e.g. deactivated): sending them to the
                # sign-in page would bounce straight back here.
                raise PermissionDenied
            return redirect_to_login(request.get_full_path())
        request.membership = membership  # type: ignore[attr-defined]
        # Times on screen are in the organisation's zone (stored in UTC).
        try:
            timezone.activate(zoneinfo.ZoneInfo(membership.organization.timezone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return view(request, *args, **kwargs)
        finally:
            timezone.deactivate()  # a worker thread's next request starts clean

    return wrapper


def permission_required(*permissions: str) -> Callable[[View], View]:
    """A signed-in agent holding at least one of `permissions` (an administrator holds them
    all); anyone else gets the translated 403 page."""

    def decorator(view: View) -> View:
        @agent_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            membership: Membership = request.membership  # type: ignore[attr-defined]
            if not any(membership.has_permission(p) for p in permissions):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# The permissions that open some part of the settings (the index lists what each opens).
SETTINGS_PERMISSIONS = (Permission.GENERAL_SETTINGS, Permission.MANAGE_AGENTS,
                        Permission.API_KEYS)

# The organisation's own settings (channels, services, tags...).
settings_required = permission_required(Permission.GENERAL_SETTINGS)
