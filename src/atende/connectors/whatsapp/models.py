"""What the WhatsApp channel needs beyond the shared ticket models."""

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.crypto import decrypt_json, encrypt_json
from atende.tenancy.models import TenantModel


class TemplateMessage(TenantModel):
    """Marks a timeline message as an approved template (HSM) to send, with its variables;
    the connector sends it as a template instead of free text."""

    message = models.OneToOneField("tickets.Message", on_delete=models.CASCADE,
                                   related_name="whatsapp_template")
    name = models.CharField(_("template"), max_length=512)
    language = models.CharField(_("language"), max_length=20)
    params = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("WhatsApp template message")
        verbose_name_plural = _("WhatsApp template messages")

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class SentPart(TenantModel):
    """One provider message of an answer: text and each file go out as separate WhatsApp
    messages, each with its own wamid and statuses. Recorded as each part is accepted, so
    a retry after a partial failure sends only what is missing."""

    message = models.ForeignKey("tickets.Message", on_delete=models.CASCADE,
                                related_name="whatsapp_parts")
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE,
                                related_name="+")
    position = models.PositiveSmallIntegerField()
    wamid = models.CharField(max_length=255)
    status = models.CharField(max_length=20, default="sent")
    failure_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = _("WhatsApp message part")
        verbose_name_plural = _("WhatsApp message parts")
        constraints = [
            models.UniqueConstraint(fields=["message", "position"],
                                    name="whatsapp_part_position"),
            # Also the index statuses are looked up by.
            models.UniqueConstraint(fields=["channel", "wamid"], name="whatsapp_part_wamid"),
        ]

    def __str__(self) -> str:
        return self.wamid


class OutOfHoursNotice(TenantModel):
    """The out-of-hours message sent on a ticket. One row per ticket: the unique constraint
    is what makes the notice go out once per conversation, whatever the number of customer
    messages, redeliveries or concurrent workers."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE,
                                  related_name="+")
    message = models.ForeignKey("tickets.Message", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("out-of-hours notice")
        verbose_name_plural = _("out-of-hours notices")

    def __str__(self) -> str:
        return f"ticket {self.ticket_id}"


class Bot(TenantModel):
    """A chatbot new WhatsApp conversations go to first ("return to bot"): the channel's bot
    id names one. Customer messages are forwarded to `webhook_url`, signed with the secret
    like Atende's outbound webhooks."""

    bot_id = models.SlugField(_("bot id"), max_length=120, help_text=_(
        "The id typed on the WhatsApp channel's \"Bot id\" option."))
    name = models.CharField(_("name"), max_length=120)
    webhook_url = models.URLField(_("webhook URL"), max_length=1000)
    encrypted_secret = models.TextField(blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    answer_timeout_minutes = models.PositiveIntegerField(
        _("answer timeout (minutes)"), default=15,
        validators=[MaxValueValidator(7 * 24 * 60)], help_text=_(
            "When the customer writes and the bot neither answers nor hands off within these "
            "minutes, the conversation goes to the queue by itself. 0: never."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("bot")
        verbose_name_plural = _("bots")
        constraints = [
            models.UniqueConstraint(fields=["organization", "bot_id"], name="whatsapp_bot_id"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def secret(self) -> str:
        return str(decrypt_json(self.encrypted_secret).get("secret") or "")

    @secret.setter
    def secret(self, value: str) -> None:
        self.encrypted_secret = encrypt_json({"secret": value})


class BotState(models.TextChoices):
    AT_BOT = "bot", _("With the bot")
    HANDED_OFF = "handed_off", _("Handed off")


class BotConversation(TenantModel):
    """A customer's conversation while it is with the bot, before any ticket exists. At most
    one per channel and number is with the bot at a time (partial unique index, also the
    lookup path of every inbound message).

    `waiting_since` is the customer's oldest message the bot has not answered yet, and
    `hand_off_due_at` when the conversation goes to the queue by itself if the bot stays
    silent (the bot's answer timeout; None: never). Both are cleared by the bot's answer."""

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE,
                                related_name="+")
    bot = models.ForeignKey(Bot, null=True, on_delete=models.SET_NULL, related_name="+")
    number = models.CharField(max_length=32)  # E.164
    name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=12, choices=BotState.choices, default=BotState.AT_BOT)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    handed_off_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    hand_off_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bot conversation")
        verbose_name_plural = _("bot conversations")
        constraints = [
            models.UniqueConstraint(fields=["channel", "number"], condition=Q(state="bot"),
                                    name="whatsapp_one_bot_conversation"),
        ]
        # The timeout sweep's path: only conversations still with the bot are indexed.
        indexes = [models.Index(fields=["hand_off_due_at"], condition=Q(state="bot"),
                                name="whatsapp_bot_hand_off_due")]

    def __str__(self) -> str:
        return f"{self.number} ({self.state})"


class BotEntry(TenantModel):
    """One message of a conversation at the bot: the customer's (its stored webhook event,
    turned into a timeline entry at hand-off) or the bot's (sent through the API)."""

    conversation = models.ForeignKey(BotConversation, on_delete=models.CASCADE,
                                     related_name="entries")
    inbound = models.BooleanField()
    event = models.ForeignKey("channels.InboundEvent", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    wamid = models.CharField(max_length=255)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    forwarded_at = models.DateTimeField(null=True, blank=True)
    forward_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("bot conversation message")
        verbose_name_plural = _("bot conversation messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "wamid"],
                                    name="whatsapp_bot_entry_wamid"),
        ]
        # Statuses of the bot's answers are matched by wamid alone.
        indexes = [models.Index(fields=["wamid"], name="whatsapp_bot_entry_by_wamid")]

    def __str__(self) -> str:
        return self.wamid
