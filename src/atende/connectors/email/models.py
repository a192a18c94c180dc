"""What the e-mail channel remembers between polls."""

from django.db import models
from django.utils import timezone

from atende.connectors.models import Channel
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
