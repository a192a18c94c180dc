"""Agents: invite (a user and their membership), edit role, profile, services and capacity,
deactivate. A person already registered joins with the same account once they accept; the
account (name, password) stays theirs: no organisation changes it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.errors import DomainError
from atende.tenancy.models import (
    ROLE_PERMISSIONS,
    AccessProfile,
    Membership,
    Organization,
    Permission,
    Role,
    User,
)
from atende.tickets.services.agents import set_agent_active
from atende.workspace.access import permission_required
from atende.workspace.settings.forms import TenantModelForm


class MembershipForm(TenantModelForm):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)

    class Meta:
        model = Membership
        fields = ["role", "access_profile", "services", "capacity"]
        widgets = {"services": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, granter: Membership | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if granter is not None and granter.role != Role.ADMIN:
            self._grant_no_more_than(granter)
        if self.instance.pk:
            if self._account_is_shared():
                # The person's account is theirs and other organisations': they edit
                # their own name (their profile), not this organisation.
                del self.fields["name"]
            else:
                self.fields["name"].initial = self.instance.user.name

    def _grant_no_more_than(self, granter: Membership) -> None:
        """"Manage agents" without being an administrator: no one is made an administrator,
        and a role or a profile is given only if the granter holds each of its permissions."""
        held = granter.permissions()
        role = self.fields["role"]
        role.choices = [(value, label) for value, label in role.choices  # type: ignore[attr-defined]
                        if value != Role.ADMIN and ROLE_PERMISSIONS[value] <= held]
        profiles = self.fields["access_profile"]
        allowed = [p.pk for p in AccessProfile.objects.for_org(self.organization)
                   if set(p.permissions) <= held]
        profiles.queryset = profiles.queryset.filter(pk__in=allowed)  # type: ignore[attr-defined]

    def _account_is_shared(self) -> bool:
        user = self.instance.user
        return bool(user.is_superuser or self.instance.invitation_pending
                    or Membership.objects.filter(user=user)
                    .exclude(organization_id=self.instance.organization_id).exists())

    def save(self, commit: bool = True) -> Membership:
        membership: Membership = super().save(commit=commit)
        name = self.cleaned_data.get("name", "")
        if "name" in self.fields and name and name != membership.user.name:
            membership.user.name = name
            membership.user.save(update_fields=["name"])
        return membership


class InviteForm(MembershipForm):
    email = forms.EmailField(label=_("E-mail"))
    field_order = ["email", "name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = _(
            "For a new account only. Someone who already has an account keeps their own name "
            "and joins when they accept the invitation.")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.for_org(self.organization).filter(user__email=email).exists():
            raise forms.ValidationError(_("This person is already an agent here."))
        return email

    @transaction.atomic
    def save(self, commit: bool = True) -> Membership:
        email = self.cleaned_data["email"]
        user = User.objects.filter(email=email).first()
        if user is None:
            # No password yet: the person sets one through "forgot my password".
            user = User.objects.create_user(email, None, name=self.cleaned_data.get("name", ""))
        else:
            # Registered already: nothing of the account changes here, and the person is
            # not an agent of this organisation until they accept.
            self.instance.is_active = False
            self.instance.invitation_pending = True
            self.fields.pop("name", None)
        self.instance.user = user
        return super().save(commit=commit)


def _membership(request: HttpRequest, pk: int) -> Membership:
    org: Organization = request.membership.organization  # type: ignore[attr-defined]
    membership = (Membership.objects.for_org(org).select_related("user")
                  .filter(pk=pk).first())
    if membership is None:
        raise Http404
    if membership.role == Role.ADMIN and request.membership.role != Role.ADMIN:  # type: ignore[attr-defined]
        raise PermissionDenied  # an administrator answers only to another one
    return membership


@permission_required(Permission.MANAGE_AGENTS)
def agent_list(request: HttpRequest) -> HttpResponse:
    agents = (Membership.objects.for_org(request.membership.organization_id)  # type: ignore[attr-defined]
              .select_related("user", "access_profile").prefetch_related("services")
              .order_by("-is_active", "user__name", "user__email"))
    return render(request, "workspace/settings/agents.html", {"agents": agents})


def _form_view(request: HttpRequest, form_class: type[MembershipForm],
               instance: Membership | None) -> HttpResponse:
    org = request.membership.organization  # type: ignore[attr-defined]
    form = form_class(org, request.POST or None, instance=instance,
                      granter=request.membership)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        membership = form.save()
        if membership.invitation_pending and instance is None:
            messages.success(request, _("This person already has an account: they join once "
                                        "they accept the invitation, shown to them when they "
                                        "sign in."))
        else:
            messages.success(request, _("Saved."))
        return redirect("workspace:settings:agents")
    return render(request, "workspace/settings/agent_form.html",
                  {"form": form, "object": instance})


@permission_required(Permission.MANAGE_AGENTS)
def agent_invite(request: HttpRequest) -> HttpResponse:
    return _form_view(request, InviteForm, None)


@permission_required(Permission.MANAGE_AGENTS)
def agent_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_view(request, MembershipForm, _membership(request, pk))


@require_POST
@permission_required(Permission.MANAGE_AGENTS)
def agent_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    try:
        set_agent_active(membership, not membership.is_active,
                         actor=request.membership)  # type: ignore[attr-defined]
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("workspace:settings:agents")
