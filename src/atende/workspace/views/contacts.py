"""The contacts screens: list and search, a contact's page, edit, and merge two contacts.

Any agent of the organisation sees and edits contacts; the tickets on a contact's page
are only those the agent may see (tickets.visibility). Merging moves every ticket of a
contact, seen or not, so it needs "See every ticket"."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from atende.contacts import listing
from atende.contacts.changes import Editor, company_named, update_contact
from atende.contacts.models import Company, Contact
from atende.errors import DomainError
from atende.ids import parse_id
from atende.tenancy.models import Membership
from atende.tickets import visibility
from atende.tickets.services.contact_merge import merge_contacts, merge_preview
from atende.workspace.access import agent_required
from atende.workspace.contact_forms import ContactForm

PAGE_SIZE = 25


def _membership(request: HttpRequest) -> Membership:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    return membership


def _contact(request: HttpRequest, contact_id: int) -> Contact:
    try:
        return listing.contact_for(_membership(request).organization_id, contact_id)
    except Contact.DoesNotExist:
        raise Http404 from None


def may_merge(membership: Membership) -> bool:
    return visibility.sees_every_ticket(membership)


@agent_required
@require_GET
def contact_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    q = str(request.GET.get("q", ""))
    qs, terms = listing.search(membership.organization_id, q)
    before = str(request.GET.get("before", "")) or None
    try:
        rows, next_before = listing.page(qs, before=before, limit=PAGE_SIZE)
    except ValueError:
        rows, next_before = listing.page(qs, before=None, limit=PAGE_SIZE)
    context = {"rows": rows, "q": terms.text, "problem": terms.problem,
               "next_before": next_before, "paged": bool(before)}
    template = ("workspace/contacts/list.html#contact-results"
                if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
                else "workspace/contacts/list.html")
    return render(request, template, context)


@agent_required
@require_GET
def contact_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    membership = _membership(request)
    contact = _contact(request, contact_id)
    if contact.pk != contact_id:
        return redirect("workspace:contacts:detail", contact.pk)
    tickets = (visibility.visible_tickets(membership).filter(contact=contact)
               .select_related("channel", "service", "assignee").order_by("-updated_at")[:100])
    history = contact.audit_entries.select_related("actor_user")[:20]
    return render(request, "workspace/contacts/detail.html", {
        "contact": contact, "identities": contact.identities.order_by("created_at", "pk"),
        "tickets": tickets, "history": history, "may_merge": may_merge(membership)})


@agent_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    membership = _membership(request)
    contact = _contact(request, contact_id)
    identities = list(contact.identities.order_by("created_at", "pk"))
    initial = {"name": contact.name, "notes": contact.notes,
               "company": contact.company.name if contact.company else ""}
    form = ContactForm(request.POST or None, initial=initial,
                       identity_ids=[i.pk for i in identities])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        add = [(data["new_kind"], data["new_value"])] if data["new_value"].strip() else []
        try:
            update_contact(contact, Editor(user_id=membership.user_id),
                           name=data["name"], notes=data["notes"],
                           company=company_named(membership.organization_id, data["company"]),
                           add=add, remove=data["remove"])
        except DomainError as exc:
            form.add_error("new_value" if exc.field == "identities" else None, exc.message)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("workspace:contacts:detail", contact.pk)
    companies = Company.objects.for_org(membership.organization_id).order_by("name")[:200]
    return render(request, "workspace/contacts/edit.html", {
        "contact": contact, "form": form, "identities": identities, "companies": companies})


@agent_required
@require_http_methods(["GET", "POST"])
def contact_merge(request: HttpRequest, contact_id: int) -> HttpResponse:
    """GET: pick the other contact (search), then a preview of what moves; POST: merge."""
    membership = _membership(request)
    if not may_merge(membership):
        raise PermissionDenied
    target = _contact(request, contact_id)
    source_id = parse_id(str(request.POST.get("source") or request.GET.get("source") or ""))
    source = None
    if source_id is not None:
        try:
            source = listing.live_contacts(membership.organization_id).get(pk=source_id)
        except Contact.DoesNotExist:
            raise Http404 from None
    error = ""
    preview = None
    if source is not None:
        try:
            preview = merge_preview(target, source)
        except DomainError as exc:
            error = exc.message
    if request.method == "POST" and preview is not None:
        try:
            merge_contacts(target, preview.source, Editor(user_id=membership.user_id))
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Contacts merged."))
            return redirect("workspace:contacts:detail", target.pk)
    q = str(request.GET.get("q", ""))
    candidates: list[Contact] = []
    if q.strip() and source is None:
        qs, _terms = listing.search(membership.organization_id, q)
        candidates, _next = listing.page(qs.exclude(pk=target.pk), before=None, limit=10)
    return render(request, "workspace/contacts/merge.html", {
        "contact": target, "q": q, "candidates": candidates, "preview": preview,
        "error": error})
