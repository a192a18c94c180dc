"""The portal's pages at `/p/<slug>/`: thin views over `accounts`, `sessions`, `history`
and `submit`. Every page finds the organisation by its slug and, where it needs one, the
customer from the portal's own cookie (never the agents' session)."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.channels.models import Channel
from atende.client_address import client_ip
from atende.connectors.portal import accounts, appearance, form_fields, history, sessions, submit
from atende.connectors.portal.channels import category_names, portal_channel, settings_for
from atende.connectors.portal.forms import (
    CommentForm,
    EmailForm,
    PasswordForm,
    SignInForm,
    SignUpForm,
    TicketForm,
)
from atende.connectors.portal.models import CustomerAccount, PortalSettings
from atende.tenancy.models import Organization
from atende.tickets.errors import TicketError

View = Callable[..., HttpResponseBase]


class Portal:
    """The organisation, its portal channel and settings, and the signed-in customer."""

    def __init__(self, request: HttpRequest, slug: str) -> None:
        org = Organization.objects.filter(slug=slug).first()
        channel = portal_channel(org.pk) if org else None
        if org is None or channel is None:
            raise Http404
        self.org: Organization = org
        self.channel: Channel = channel
        self.settings: PortalSettings = settings_for(org.pk)
        self.customer: CustomerAccount | None = sessions.current(request, org)

    def url(self, name: str, **kwargs: Any) -> str:
        return reverse(f"portal:{name}", kwargs={"slug": self.org.slug, **kwargs})


def portal_page(*, customer: bool = False) -> Callable[[View], View]:
    """Resolve the portal (404 for an unknown slug or a closed portal); with `customer`,
    send a visitor who is not signed in to the sign-in page."""
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, **kwargs: Any) -> HttpResponseBase:
            portal = Portal(request, slug)
            if customer and portal.customer is None:
                return redirect(portal.url("signin"))
            return view(request, portal, **kwargs)
        return wrapper
    return decorate


def _render(request: HttpRequest, portal: Portal, template: str,
            context: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    return render(request, f"portal/{template}", {
        "portal": portal, "org": portal.org, "customer": portal.customer,
        "theme": appearance.theme(portal.settings), **(context or {})}, status=status)


@portal_page()
def home(request: HttpRequest, portal: Portal) -> HttpResponse:
    tickets = history.tickets(portal.customer) if portal.customer else []
    return _render(request, portal, "home.html", {"tickets": tickets})


@portal_page()
def sign_up(request: HttpRequest, portal: Portal) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.request_sign_up(portal.org, form.cleaned_data["email"],
                                 form.cleaned_data["name"], client_ip(request))
        return redirect(portal.url("sent"))
    return _render(request, portal, "signup.html", {"form": form})


@portal_page()
def sent(request: HttpRequest, portal: Portal) -> HttpResponse:
    return _render(request, portal, "sent.html")


@portal_page()
def verify(request: HttpRequest, portal: Portal, token: str) -> HttpResponse:
    sign_up = accounts.read_sign_up(portal.org, token)
    if sign_up is None:
        return _render(request, portal, "link_invalid.html", status=400)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = accounts.complete_sign_up(portal.org, sign_up,
                                                form.cleaned_data["password"])
        except ValidationError as exc:
            form.add_error("password", exc)
        else:
            if account is None:  # used before: the account exists
                return redirect(portal.url("signin"))
            response = redirect(portal.url("home"))
            sessions.start(response, account)
            return response
    return _render(request, portal, "set_password.html",
                   {"form": form, "email": sign_up.email, "title": _("Create your account")})


@portal_page()
def sign_in(request: HttpRequest, portal: Portal) -> HttpResponse:
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            account = accounts.authenticate(portal.org, form.cleaned_data["email"],
                                            form.cleaned_data["password"], client_ip(request))
        except accounts.TooManyAttempts:
            form.add_error(None, _("Too many failed attempts. Wait 15 minutes and try again, "
                                   "or ask for a sign-in link."))
            status = 429
        else:
            if account is not None:
                response = redirect(portal.url("home"))
                sessions.start(response, account)
                return response
            form.add_error(None, _("The e-mail or the password is not right."))
    return _render(request, portal, "signin.html", {"form": form, "link_form": EmailForm()},
                   status=status)


def _request_link(request: HttpRequest, portal: Portal, purpose: str,
                  template: str) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.request_link(portal.org, form.cleaned_data["email"], purpose,
                              client_ip(request))
        return redirect(portal.url("sent"))
    return _render(request, portal, template, {"form": form})


@portal_page()
def sign_in_link(request: HttpRequest, portal: Portal) -> HttpResponse:
    return _request_link(request, portal, accounts.SIGN_IN, "link_request.html")


@portal_page()
def reset(request: HttpRequest, portal: Portal) -> HttpResponse:
    return _request_link(request, portal, accounts.RESET, "reset_request.html")


@portal_page()
def use_sign_in_link(request: HttpRequest, portal: Portal, token: str) -> HttpResponse:
    """GET asks to confirm (a mail scanner opening the link must not spend it); POST
    signs in."""
    if request.method != "POST":
        valid = accounts.read_link(portal.org, token, accounts.SIGN_IN) is not None
        return _render(request, portal, "link_confirm.html" if valid else "link_invalid.html",
                       status=200 if valid else 400)
    account = accounts.use_link(portal.org, token, accounts.SIGN_IN)
    if account is None:
        return _render(request, portal, "link_invalid.html", status=400)
    response = redirect(portal.url("home"))
    sessions.start(response, account)
    return response


@portal_page()
def reset_confirm(request: HttpRequest, portal: Portal, token: str) -> HttpResponse:
    account = accounts.read_link(portal.org, token, accounts.RESET)
    if account is None:
        return _render(request, portal, "link_invalid.html", status=400)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["password"]
        try:
            validate_password(password)  # before the link is spent
        except ValidationError as exc:
            form.add_error("password", exc)
        else:
            spent = accounts.use_link(portal.org, token, accounts.RESET)
            if spent is None:
                return _render(request, portal, "link_invalid.html", status=400)
            accounts.set_password(spent, password)
            response = redirect(portal.url("home"))
            sessions.start(response, spent)
            return response
    return _render(request, portal, "set_password.html",
                   {"form": form, "email": account.email, "title": _("Choose a new password")})


@require_POST
@portal_page()
def sign_out(request: HttpRequest, portal: Portal) -> HttpResponse:
    response = redirect(portal.url("home"))
    sessions.end(request, response, portal.org)
    return response


@portal_page(customer=True)
def new_ticket(request: HttpRequest, portal: Portal) -> HttpResponse:
    assert portal.customer is not None
    form = TicketForm(form_fields.load(portal.settings.form_fields),
                      category_names(portal.org.pk), request.POST or None,
                      request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = submit.open_from_form(portal.channel, portal.customer, form)
        except TicketError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(portal.url("ticket", number=ticket.number) + "?created=1")
    return _render(request, portal, "new_ticket.html", {"form": form})


@portal_page(customer=True)
def ticket(request: HttpRequest, portal: Portal, number: int) -> HttpResponse:
    assert portal.customer is not None
    found = history.ticket(portal.customer, number)
    if found is None:
        raise Http404
    may_comment = history.may_comment(found, portal.settings)
    form = CommentForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if not may_comment:  # the page says so in place of the form
            status = 409
        elif form.is_valid():
            try:
                submit.comment(portal.channel, portal.customer, found, form)
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect(portal.url("ticket", number=number))
    return _render(request, portal, "ticket.html", {
        "ticket": found, "timeline": history.timeline(found), "form": form,
        "may_comment": may_comment, "created": request.GET.get("created") == "1"},
        status=status)


@portal_page(customer=True)
def attachment(request: HttpRequest, portal: Portal, attachment_id: int) -> HttpResponseBase:
    assert portal.customer is not None
    item = history.attachment(portal.customer, attachment_id)
    if item is None:
        raise Http404
    try:
        handle = item.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=item.filename,
                            content_type="application/octet-stream")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@portal_page()
def brand_image(request: HttpRequest, portal: Portal, which: str) -> HttpResponseBase:
    """The portal's logo or favicon (media files are not served as such: the data
    directory is private)."""
    image = {"logo": portal.settings.logo, "favicon": portal.settings.favicon}.get(which)
    if not image:
        raise Http404
    try:
        handle = image.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=mimetypes.guess_type(image.name or "")[0]
                            or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=300"
    return response
