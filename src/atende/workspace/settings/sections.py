"""The simple settings sections: services, access profiles, tags, finalization tags and
custom fields (each a list with create, edit and, where the model allows, deactivate)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from atende.automation.models import BusinessCalendar, SavedReply
from atende.connectors.portal.models import Category as TicketCategory
from atende.connectors.whatsapp.models import Bot
from atende.kb.models import Category as ArticleCategory
from atende.tenancy.models import AccessProfile, Permission, Service
from atende.tickets.models import CustomField, FinalizationTag, SlaPolicy, Tag
from atende.workspace.settings import (
    automation_forms,
    bot_forms,
    forms,
    kb_articles,
    sla_forms,
)
from atende.workspace.settings.crud import Column, Section


def _permissions(values: list[str]) -> str:
    labels = dict(Permission.choices)
    return ", ".join(str(labels.get(v, v)) for v in values) or "—"


def _yes_no(value: Any) -> Any:
    return _("Yes") if value else _("No")


def _minutes(value: int | None) -> Any:
    return value if value else "—"


def _timeout(value: int) -> Any:
    return value if value else _("Never")


def _linked(attr: str) -> Any:
    """The channels or services of a policy's (prefetched) links."""
    return lambda links: ", ".join(str(getattr(link, attr)) for link in links.all()) or "—"


SECTIONS = [
    Section(
        slug="services", model=Service, form=forms.ServiceForm,
        title=_("Services"), add_label=_("New service"),
        empty=_("No services yet. A service is the team that answers a channel: create one, "
                "then link channels and agents to it."),
        columns=(Column("name", _("Name")), Column("description", _("Description")),
                 Column("auto_assign", _("Automatic assignment"), _yes_no)),
    ),
    Section(
        slug="profiles", model=AccessProfile, form=forms.AccessProfileForm, toggle=False,
        title=_("Access profiles"), add_label=_("New access profile"),
        empty=_("No access profiles yet. A profile says what its agents may do, e.g. "
                "\"general settings\" to configure channels."),
        columns=(Column("name", _("Name")),
                 Column("permissions", _("Permissions"), _permissions)),
    ),
    Section(
        slug="tags", model=Tag, form=forms.TagForm, toggle=False,
        title=_("Tags"), add_label=_("New tag"),
        empty=_("No tags yet. Tags help agents find and group tickets."),
        columns=(Column("name", _("Name")),),
    ),
    Section(
        slug="finalization-tags", model=FinalizationTag, form=forms.FinalizationTagForm,
        title=_("Finalization tags"), add_label=_("New finalization tag"),
        empty=_("No finalization tags yet. Agents pick one when they finish an attendance, "
                "e.g. \"Resolved on first contact\"."),
        columns=(Column("name", _("Name")),),
    ),
    Section(
        slug="ticket-categories", model=TicketCategory, form=forms.CategoryForm,
        ordering=("position", "name"),
        title=_("Ticket categories"), add_label=_("New category"),
        empty=_("No categories yet. The portal's form and the tickets choose from this "
                "list, e.g. \"Billing\" or \"Hardware\"."),
        columns=(Column("name", _("Name")), Column("position", _("Position"))),
    ),
    Section(
        slug="custom-fields", model=CustomField, form=forms.CustomFieldForm, toggle=False,
        ordering=("label",),
        title=_("Custom fields"), add_label=_("New custom field"),
        empty=_("No custom fields yet. Add the information your team records on every "
                "ticket, such as an order number."),
        columns=(Column("label", _("Label")), Column("key", _("Key")),
                 Column("get_type_display", _("Type"), lambda f: f()),
                 Column("required", _("Required"), _yes_no)),
    ),
    Section(
        slug="saved-replies", model=SavedReply, form=automation_forms.SavedReplyForm,
        ordering=("title",),
        title=_("Saved replies"), add_label=_("New saved reply"),
        empty=_("No saved replies yet. Write the answers your team gives most often; "
                "variables such as {{contact.name}} are filled in for each ticket."),
        columns=(Column("title", _("Title")), Column("body", _("Text"))),
    ),
    Section(
        slug="business-hours", model=BusinessCalendar, form=automation_forms.BusinessCalendarForm,
        title=_("Business hours"), add_label=_("New calendar"),
        empty=_("No business-hours calendars yet. Say when your team attends, so customers "
                "are told when they write outside those hours."),
        columns=(Column("name", _("Name")), Column("timezone", _("Time zone")),
                 Column("always_open", _("24x7"), _yes_no)),
    ),
    Section(
        slug="bots", model=Bot, form=bot_forms.BotForm,
        title=_("Bots"), add_label=_("New bot"),
        empty=_("No bots yet. A bot receives the new WhatsApp conversations of channels "
                "with \"Return to bot\" on, and hands them off to the queue through the API."),
        columns=(Column("name", _("Name")), Column("bot_id", _("Bot id")),
                 Column("webhook_url", _("Webhook URL")),
                 Column("answer_timeout_minutes", _("Answer timeout (min)"), _timeout)),
    ),
    Section(
        slug="sla-policies", model=SlaPolicy, form=sla_forms.SlaPolicyForm,
        title=_("SLA policies"), add_label=_("New SLA policy"),
        empty=_("No SLA policies yet. Set how soon your team answers and solves tickets "
                "of a channel or a service; the queue then shows what is due first."),
        columns=(Column("name", _("Name")),
                 Column("first_response_minutes", _("First response (min)"), _minutes),
                 Column("resolution_minutes", _("Resolution (min)"), _minutes),
                 Column("calendar", _("Business hours"), lambda c: c or "—"),
                 Column("is_default", _("Default"), _yes_no),
                 Column("channel_links", _("Channels"), _linked("channel")),
                 Column("service_links", _("Services"), _linked("service"))),
        prefetch=("calendar", "channel_links__channel", "service_links__service"),
    ),
    Section(
        slug="kb-categories", model=ArticleCategory, form=kb_articles.CategoryForm, toggle=False,
        ordering=("position", "name"),
        title=_("Knowledge base categories"), add_label=_("New category"),
        empty=_("No categories yet. Categories group the help centre's articles, e.g. "
                "\"Billing\" or \"Access and passwords\"."),
        columns=(Column("name", _("Name")), Column("name_en", _("Name in English")),
                 Column("position", _("Position"))),
    ),
]
