"""Who may see which screen: every workspace view is for a signed-in agent of the
organisation chosen for the session; the settings screens also need "general settings"."""

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


def settings_required(view: View) -> View:
    """Only a profile with "general settings" (or an administrator) reaches the settings."""

    @agent_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.membership.has_permission(Permission.GENERAL_SETTINGS):  # type: ignore[attr-defined]
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
