"""The phone channel's own rows: its numbers, its IVR ("URA") with its prompts and menu,
and every call it answered (kept from the first ring, so a call in progress is never lost
from the record)."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.channels.models import Channel
from atende.tenancy.models import Service, TenantModel


class PhoneNumber(TenantModel):
    """A number of a voice channel (E.164). A number belongs to one organisation: a call
    to it is routed to its channel."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="phone_numbers")
    e164 = models.CharField(_("number"), max_length=20, unique=True)
    inbound = models.BooleanField(_("receives calls"), default=True)
    outbound = models.BooleanField(_("places calls"), default=True)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")

    def __str__(self) -> str:
        return self.e164


class Voice(models.TextChoices):
    PT_BR = "pt-br", _("Portuguese (Brazil)")
    EN = "en-us", _("English (US)")
    EN_GB = "en", _("English (UK)")


class Ivr(TenantModel):
    """The menu a voice channel answers with. Its hours are the channel's business
    calendar (empty: 24x7)."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="ivr")
    name = models.CharField(_("name"), max_length=120)
    voice = models.CharField(_("voice"), max_length=10, choices=Voice.choices,
                             default=Voice.PT_BR)
    speed = models.PositiveSmallIntegerField(
        _("speed (words per minute)"), default=150,
        help_text=_("Between 80 and 260."))
    timeout_seconds = models.PositiveSmallIntegerField(
        _("seconds to wait for a key"), default=5)
    repeats = models.PositiveSmallIntegerField(
        _("times the menu repeats"), default=2,
        help_text=_("After the last one the caller hears the unanswered-call message."))
    voicemail = models.BooleanField(
        _("voicemail"), default=True,
        help_text=_("Record a message when closed or when no option was chosen."))
    voicemail_seconds = models.PositiveSmallIntegerField(
        _("longest voicemail (seconds)"), default=60)

    class Meta:
        verbose_name = _("IVR")
        verbose_name_plural = _("IVRs")

    def __str__(self) -> str:
        return self.name


class IvrOption(TenantModel):
    """A service in the menu; its key is its position (1 to 9)."""

    ivr = models.ForeignKey(Ivr, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(_("key"))
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("service"))
    label = models.CharField(_("spoken name"), max_length=80, blank=True,
                             help_text=_("Empty: the service's name."))

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["ivr", "position"], name="uniq_ivr_option_key"),
        ]

    @property
    def spoken(self) -> str:
        return self.label or self.service.name


class PromptRole(models.TextChoices):
    WELCOME = "welcome", _("Welcome message")
    MENU = "menu", _("Menu")
    CLOSED = "closed", _("Closed message")
    UNANSWERED = "unanswered", _("Unanswered-call message")


class PromptSource(models.TextChoices):
    TTS = "tts", _("Text read by the voice")
    UPLOAD = "upload", _("Uploaded audio (.mp3 or .wav)")


def prompt_path(instance: Prompt, filename: str) -> str:
    return (f"voice/prompts/{instance.organization_id}/{instance.ivr_id}/"
            f"{instance.role}-{instance.sha256[:16]}.wav")


class Prompt(TenantModel):
    """One message of an IVR, stored as the PBX plays it: an 8 kHz mono 16-bit WAV."""

    ivr = models.ForeignKey(Ivr, on_delete=models.CASCADE, related_name="prompts")
    role = models.CharField(max_length=12, choices=PromptRole.choices)
    source = models.CharField(_("source"), max_length=8, choices=PromptSource.choices,
                              default=PromptSource.TTS)
    text = models.TextField(_("text"), blank=True)
    audio = models.FileField(upload_to=prompt_path, max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ivr", "role"], name="uniq_ivr_prompt_role"),
        ]


class CallDirection(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class CallStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    ROUTED = "routed", _("Sent to a service")
    VOICEMAIL = "voicemail", _("Voicemail")
    MISSED = "missed", _("Missed")
    COMPLETED = "completed", _("Completed")


class Call(TenantModel):
    """One call, written when it starts and at each outcome. `ivr_path` lists the steps the
    caller went through ("welcome", "menu", "timeout", "key:2", …). Its entry on a ticket
    is `message` (a voicemail is that message's attachment)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    adapter = models.CharField(max_length=12)  # fastagi | twilio | ari
    call_id = models.CharField(max_length=120)
    direction = models.CharField(_("direction"), max_length=10,
                                 choices=CallDirection.choices, default=CallDirection.INBOUND)
    from_number = models.CharField(_("from"), max_length=40, blank=True)
    to_number = models.CharField(_("to"), max_length=40, blank=True)
    started_at = models.DateTimeField(_("start"), default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=CallStatus.choices,
                              default=CallStatus.IN_PROGRESS)
    within_hours = models.BooleanField(default=True)
    ivr_path = models.JSONField(default=list, blank=True)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("service chosen"))
    voicemail_seconds = models.PositiveIntegerField(default=0)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    message = models.OneToOneField("tickets.Message", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="call")
    # A call-back: the missed call it answers.
    callback_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.UniqueConstraint(fields=["channel", "call_id"], name="uniq_call_id"),
        ]
        indexes = [models.Index(fields=["organization", "-started_at"], name="call_org_recent")]

    def __str__(self) -> str:
        return f"{self.from_number} → {self.to_number}"

    @property
    def duration(self) -> timedelta | None:
        return self.ended_at - self.started_at if self.ended_at else None
