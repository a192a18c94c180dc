"""What the e-mail channel remembers between polls."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.channels.models import Channel
from atende.tenancy.models import TenantModel


class MailboxState(TenantModel):
    """Per IMAP folder: the UIDVALIDITY seen and the last UID taken in (fetch `last+1:*`).
    POP3 channels keep one row with folder "" for the poll time only."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    folder = models.CharField(max_length=255, blank=True)
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)
    polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "folder"], name="uniq_mailbox_state")
        ]


class Pop3Seen(TenantModel):
    """A POP3 message (by UIDL) already taken in, for mailboxes that keep their mail."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    uidl = models.CharField(max_length=100)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "uidl"], name="uniq_pop3_seen")]


class AutoMailCount(TenantModel):
    """Automatic mails sent to one address on one day: the last line against loops."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=320)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "address", "day"],
                                    name="uniq_auto_mail_count")
        ]


class MailboxLease(TenantModel):
    """A time-limited claim on a channel's mailbox, shared by every process and machine
    (a row, so it also works on SQLite where the cache is per process): `fetch` while a poll
    or an IDLE wake takes mail in, `idle` while one watcher keeps the IDLE connection."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=10)
    holder = models.CharField(max_length=100)
    expires_at = models.DateTimeField()
    # What the `idle` holder reports, for the channel screens: in IDLE since when, or its
    # last connection error. Reset whenever another holder takes the lease.
    idle_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "purpose"], name="uniq_mailbox_lease")
        ]


class RuleField(models.TextChoices):
    FROM = "from", _("From")
    TO = "to", _("To")
    CC = "cc", _("Cc")
    SUBJECT = "subject", _("Subject")
    BODY = "body", _("Body")
    HEADER = "header", _("Header")


class RuleOperator(models.TextChoices):
    CONTAINS = "contains", _("contains")
    EQUALS = "equals", _("is")
    ENDS_WITH = "ends_with", _("ends with")
    REGEX = "regex", _("matches the regular expression")


class ProcessingRule(TenantModel):
    """EM-8: a condition on an incoming mail and what to do with it. Rules run in
    `position` order; all that match apply (the last one wins for a field), `ignore` stops."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=120)
    field = models.CharField(_("field"), max_length=10, choices=RuleField.choices)
    header_name = models.CharField(_("header name"), max_length=100, blank=True)
    operator = models.CharField(_("operator"), max_length=10, choices=RuleOperator.choices,
                                default=RuleOperator.CONTAINS)
    value = models.CharField(_("value"), max_length=500)
    ignore = models.BooleanField(_("ignore the mail"), default=False)
    no_auto_reply = models.BooleanField(_("never answer automatically"), default=False)
    service = models.ForeignKey("tenancy.Service", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("service"))
    category = models.CharField(_("category"), max_length=100, blank=True)
    priority = models.CharField(_("priority"), max_length=10, blank=True)
    tag = models.CharField(_("tag"), max_length=60, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+",
                                 verbose_name=_("assignee"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("processing rule")
        verbose_name_plural = _("processing rules")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["channel", "is_active", "position"],
                                name="email_rule_channel")]

    def __str__(self) -> str:
        return self.name

    def get_priority_display(self) -> str:
        from atende.tickets.models import Priority

        return str(dict(Priority.choices).get(self.priority, self.priority))


class SignatureImage(TenantModel):
    """EM-6: an image uploaded through the signature editor. The stored signature refers to
    it as `cid:sig-<pk>`; every outbound mail of the channel carries it as an inline part."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    storage_name = models.CharField(max_length=300)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Clean-up on save: the channel's images older than a day.
        indexes = [models.Index(fields=["channel", "created_at"],
                                name="email_sig_image_channel")]


class NotificationEvent(models.TextChoices):
    OPENED = "opened", _("Ticket opened")
    STATUS_CHANGED = "status_changed", _("Status changed")
    ANSWER_REMINDER = "answer_reminder", _("Answer reminder")
    RESOLVED = "resolved", _("Ticket resolved")
    # Sent instead of "ticket opened" when the customer wrote while the channel (or its
    # service) was closed; at most one of the two per conversation.
    OUT_OF_HOURS = "out_of_hours", _("Ticket opened outside business hours")


# The automatic answers to a customer's first mail: one of them per conversation.
FIRST_ANSWERS = (NotificationEvent.OPENED, NotificationEvent.OUT_OF_HOURS)


class NotificationLanguage(models.TextChoices):
    PT_BR = "pt-br", _("Brazilian Portuguese")
    EN = "en", _("English")


class NotificationTemplate(TenantModel):
    """EM-5: what the customer receives for one ticket event, in one language, on one
    channel. No row: the built-in default text, switched off."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(_("event"), max_length=20, choices=NotificationEvent.choices)
    language = models.CharField(_("language"), max_length=10,
                                choices=NotificationLanguage.choices)
    enabled = models.BooleanField(_("send"), default=False)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"), max_length=20000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        # Also the lookup index of every send: (channel, event, language).
        constraints = [
            models.UniqueConstraint(fields=["channel", "event", "language"],
                                    name="uniq_notification_template")
        ]

    def __str__(self) -> str:
        return f"{self.event} ({self.language})"


class AutomaticMail(TenantModel):
    """Marks a timeline message as an automatic notification (not an agent's answer)."""

    message = models.OneToOneField("tickets.Message", on_delete=models.CASCADE,
                                   related_name="automatic_mail")
    event = models.CharField(max_length=20, choices=NotificationEvent.choices)
    language = models.CharField(max_length=10)
