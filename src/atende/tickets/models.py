"""Tickets, their timeline (messages, attachments) and their audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import TenantModel


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")



class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)

# The queue's "priority" sort key, urgent first. An index is built on this very expression
# (ticket_org_priority): keep the two identical or the planner sorts the whole tenant.
PRIORITY_ORDER = models.Case(
    models.When(priority=Priority.URGENT, then=models.Value(0)),
    models.When(priority=Priority.HIGH, then=models.Value(1)),
    models.When(priority=Priority.NORMAL, then=models.Value(2)),
    default=models.Value(3), output_field=models.IntegerField(),
)
# The queue's "longest waiting" sort key (ticket_org_waiting).
WAITING_SINCE = Coalesce("last_inbound_at", "created_at")


class Tag(TenantModel):
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="uniq_tag")]

    def __str__(self) -> str:
        return self.name


class FinalizationTag(TenantModel):
    """A "tabulação": how an attendance ended, recorded each time it is used."""

    name = models.CharField(_("name"), max_length=80)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("finalization tag")
        verbose_name_plural = _("finalization tags")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_finalization_tag")
        ]

    def __str__(self) -> str:
        return self.name


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Choice")
    DATE = "date", _("Date")


class CustomField(TenantModel):
    """A ticket field defined by the organisation; values live in Ticket.custom_fields."""

    key = models.SlugField(_("key"), max_length=60)
    label = models.CharField(_("label"), max_length=120)
    type = models.CharField(
        _("type"), max_length=20, choices=CustomFieldType.choices, default=CustomFieldType.TEXT
    )
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="uniq_custom_field")
        ]

    def __str__(self) -> str:
        return self.label


class SlaPolicy(TenantModel):
    """Service-level targets (CORE-13): minutes to the first public answer and to resolution,
    optionally tighter for high and urgent tickets, counted on a business-hours calendar.

    It applies to the channels and services linked to it; a ticket takes its channel's
    policy, else its service's, else the organisation's default (see tickets.services.sla).
    """

    name = models.CharField(_("name"), max_length=120)
    first_response_minutes = models.PositiveIntegerField(
        _("first response (minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (minutes)"), null=True, blank=True)
    high_first_response_minutes = models.PositiveIntegerField(
        _("first response, high priority (minutes)"), null=True, blank=True)
    high_resolution_minutes = models.PositiveIntegerField(
        _("resolution, high priority (minutes)"), null=True, blank=True)
    urgent_first_response_minutes = models.PositiveIntegerField(
        _("first response, urgent (minutes)"), null=True, blank=True)
    urgent_resolution_minutes = models.PositiveIntegerField(
        _("resolution, urgent (minutes)"), null=True, blank=True)
    calendar = models.ForeignKey(
        "automation.BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("business hours"),
        help_text=_("Targets count only open time of this calendar; empty: every minute."))
    is_default = models.BooleanField(
        _("organisation default"), default=False,
        help_text=_("Used by tickets whose channel and service have no policy."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_sla_policy"),
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_default=True),
                name="uniq_sla_default",
                violation_error_message=_("Another policy is already the default.")),
        ]

    def __str__(self) -> str:
        return self.name

    def targets(self, priority: str) -> tuple[int | None, int | None]:
        """(first response, resolution) minutes for a ticket of this priority."""
        first, resolution = self.first_response_minutes, self.resolution_minutes
        if priority == Priority.URGENT:
            first = self.urgent_first_response_minutes or first
            resolution = self.urgent_resolution_minutes or resolution
        elif priority == Priority.HIGH:
            first = self.high_first_response_minutes or first
            resolution = self.high_resolution_minutes or resolution
        return first, resolution


class SlaPolicyChannel(TenantModel):
    """A channel follows one policy at most (the unique channel)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="channel_links")
    channel = models.OneToOneField("channels.Channel", on_delete=models.CASCADE,
                                   related_name="sla_link")


class SlaPolicyService(TenantModel):
    """A service follows one policy at most (the unique service)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="service_links")
    service = models.OneToOneField("tenancy.Service", on_delete=models.CASCADE,
                                   related_name="sla_link")


class Ticket(TenantModel):
    number = models.PositiveBigIntegerField(_("number"), editable=False)
    subject = models.CharField(_("subject"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.NEW)
    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT,
                                related_name="tickets", verbose_name=_("contact"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="assigned_tickets", verbose_name=_("assignee"),
    )
    service = models.ForeignKey("tenancy.Service", null=True, blank=True,
                                on_delete=models.SET_NULL, verbose_name=_("service"))
    channel = models.ForeignKey("channels.Channel", null=True, blank=True,
                                on_delete=models.SET_NULL, verbose_name=_("origin channel"))
    # The origin channel's kind, kept even if the channel is deleted (badge, filters).
    origin = models.CharField(_("origin"), max_length=30)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets",
                                  verbose_name=_("tags"))
    finalization_tag = models.ForeignKey(
        FinalizationTag, null=True, blank=True, on_delete=models.SET_NULL,
        verbose_name=_("finalization tag"),
    )
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # The agent's last public answer; with `answer_reminder_sent_at` it drives the
    # "answer reminder" (the customer is asked to reply to a pending ticket).
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    answer_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # SLA clocks (CORE-13), kept by tickets.services.sla. The resolution clock stops while
    # the ticket is pending, resolved or closed (`sla_paused_at`); the open time it stood
    # still is summed in `sla_paused_seconds` and added to the target when it runs again.
    sla_policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("SLA policy"))
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_paused_seconds = models.PositiveIntegerField(default=0)
    # The nearest due moment of a running clock (the queue's column and sort), and the
    # nearest one not yet marked breached (the breach sweep): both null when nothing runs.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="uniq_ticket_number")
        ]
        indexes = [
            # The API list and the queue page by (updated_at, id) within a tenant.
            models.Index(fields=["organization", "-updated_at", "-id"], name="ticket_org_updated"),
            models.Index(fields=["organization", "status", "-updated_at"],
                         name="ticket_org_status"),
            models.Index(fields=["organization", "assignee", "status"],
                         name="ticket_org_assignee"),
            # With the assignee last, a restricted agent's counts (tickets.queue.count_terms)
            # read their services' unassigned tickets, and their own in their services,
            # from the index alone.
            models.Index(fields=["organization", "service", "status", "assignee"],
                         name="ticket_org_service_assignee"),
            models.Index(fields=["contact", "-created_at"], name="ticket_contact"),
            models.Index(fields=["channel", "status", "last_outbound_at"],
                         name="ticket_channel_reminder"),
            # The queue's other sorts, each ending in the id tie-break so a page is read
            # in index order and stops at 50 rows, however many tickets the tenant has.
            models.Index(fields=["organization", "sla_due_at", "id"],
                         name="ticket_org_sla_due_id"),
            models.Index(F("organization"), WAITING_SINCE, F("id"), name="ticket_org_waiting"),
            models.Index(F("organization"), PRIORITY_ORDER, F("updated_at").desc(),
                         F("id").desc(), name="ticket_org_priority"),
            models.Index(fields=["sla_check_at"], condition=Q(sla_check_at__isnull=False),
                         name="ticket_sla_check"),
            # The same three sorts over the open tickets only (every view but "resolved"):
            # a desk's history is mostly resolved and closed tickets, the oldest ones, and
            # walking the full index from its oldest end skipped all of them first, so
            # "longest waiting" grew slower with the history.
            models.Index(F("organization"), WAITING_SINCE, F("id"),
                         condition=Q(status__in=OPEN_STATUSES), name="ticket_open_waiting"),
            models.Index(F("organization"), PRIORITY_ORDER, F("updated_at").desc(),
                         F("id").desc(), condition=Q(status__in=OPEN_STATUSES),
                         name="ticket_open_priority"),
            models.Index(fields=["organization", "sla_due_at", "id"],
                         condition=Q(status__in=OPEN_STATUSES), name="ticket_open_sla_due"),
        ]

    def __str__(self) -> str:
        return f"{self.protocol} {self.subject}"

    @property
    def protocol(self) -> str:
        return format_protocol(self.number)


def format_protocol(number: int) -> str:
    return f"TKT-{number:06d}"


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System event")


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


# A status never moves backwards: a late "delivered" does not undo "read".
DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 0, DeliveryStatus.SENT: 1, DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3, DeliveryStatus.FAILED: 4,
}


class Message(TenantModel):
    """One entry of a ticket's timeline."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    channel = models.ForeignKey("channels.Channel", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    author_contact = models.ForeignKey("contacts.Contact", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML"), blank=True, help_text=_("Sanitised."))
    external_id = models.CharField(max_length=255, blank=True)
    delivery_status = models.CharField(
        _("delivery status"), max_length=10, choices=DeliveryStatus.choices,
        default=DeliveryStatus.RECEIVED,
    )
    failure_reason = models.TextField(_("failure reason"), blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    # While queued: when the next send attempt is due (also the lease of the one under way).
    send_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=~Q(external_id=""),
                name="uniq_message_external_id",
            )
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_time"),
            models.Index(fields=["delivery_status", "send_after"], name="message_send_due"),
            # The API channel's audit lists a channel's messages, newest first.
            models.Index(fields=["channel", "-created_at"], name="message_channel_time"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} #{self.pk}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never comes from the sender (path traversal, collisions).
    digest = instance.sha256
    return f"attachments/{instance.organization_id}/{timezone.now():%Y/%m}/{digest[:2]}/{digest}"


class Attachment(TenantModel):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=150, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class ThreadReference(TenantModel):
    """A key that leads new inbound messages to an existing ticket on a channel.

    The generic API channel stores the external conversation id; e-mail stores every
    Message-ID it saw or sent.
    """

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=500)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="thread_refs")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="uniq_thread_reference")
        ]


class AuditEntry(TenantModel):
    """Interaction tracking: who changed what on a ticket, from what to what, and when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="audit_entries")
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, blank=True,
                                   help_text=_("API key, channel or system that acted."))
    action = models.CharField(max_length=40)
    field = models.CharField(max_length=60, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("interaction tracking entry")
        verbose_name_plural = _("interaction tracking")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="audit_ticket_time")]
