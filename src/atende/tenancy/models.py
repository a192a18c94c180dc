"""Organisations (tenants), their agents, services and API keys."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    """A tenant ("empresa"): owns channels, services, agents, contacts and tickets."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="America/Sao_Paulo")
    language = models.CharField(_("language"), max_length=10, default="pt-br")
    # Used by the SQLite ticket-number allocator; PostgreSQL uses a sequence per tenant.
    last_ticket_number = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class TenantQuerySet(models.QuerySet):
    def for_org(self, organization: Organization | int) -> TenantQuerySet:
        org_id = organization if isinstance(organization, int) else organization.pk
        return self.filter(organization_id=org_id)


class TenantModel(models.Model):
    """Every row that belongs to a tenant carries it (checked by a test over all models)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation")
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: an agent in one or more organisations."""

    email = models.EmailField(_("e-mail"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    date_joined = models.DateTimeField(default=now)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.name or self.email


class Permission(models.TextChoices):
    GENERAL_SETTINGS = "general_settings", _("General settings")
    MANAGE_AGENTS = "manage_agents", _("Manage agents")
    VIEW_ALL_TICKETS = "view_all_tickets", _("See every ticket")
    REPORTS = "reports", _("Reports")
    API_KEYS = "api_keys", _("API keys")
    PERSONAL_DATA = "personal_data", _("See personal data (a complaint's CPF)")


class AccessProfile(TenantModel):
    """A named set of permissions ("perfil de acesso"), e.g. "general settings"."""

    name = models.CharField(_("name"), max_length=100)
    permissions = models.JSONField(_("permissions"), default=list)

    class Meta:
        verbose_name = _("access profile")
        verbose_name_plural = _("access profiles")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_profile_name")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Agent")


# What a role holds whatever its access profile says. A supervisor leads the teams of their
# services: the reports (scoped to those services), but no organisation settings unless a
# profile grants them.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(Permission.values),
    Role.SUPERVISOR: frozenset({Permission.REPORTS}),
    Role.AGENT: frozenset(),
}


class Service(TenantModel):
    """A service ("serviço") or team: the routing unit every channel points at."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    auto_assign = models.BooleanField(
        _("automatic assignment"), default=False,
        help_text=_("New tickets go to the online agents of this service in turn."),
    )
    # The service's own hours; a channel without a calendar of its own follows them.
    business_calendar = models.ForeignKey(
        "automation.BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("business hours"),
        help_text=_("When this team attends. Channels without business hours of their own "
                    "follow it."))
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_service_name")
        ]

    def __str__(self) -> str:
        return self.name


class Presence(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class Membership(TenantModel):
    """An agent's place in one organisation: role, access profile, services, capacity."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    access_profile = models.ForeignKey(
        AccessProfile, null=True, blank=True, on_delete=models.SET_NULL,
        verbose_name=_("access profile"),
    )
    services = models.ManyToManyField(Service, blank=True, related_name="members",
                                      verbose_name=_("services"))
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=10, help_text=_("Open tickets assigned at once.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Invited while already registered (elsewhere, or in another organisation): inactive
    # until the person accepts; the inviting organisation never changes their account.
    invitation_pending = models.BooleanField(_("invitation pending"), default=False)
    presence = models.CharField(_("presence"), max_length=10, choices=Presence.choices,
                                default=Presence.OFFLINE)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False)
    # Round robin: the agent who got a ticket longest ago is next.
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="uniq_membership")
        ]
        indexes = [
            # jobs.expire_absent_agents looks for online agents not seen lately.
            models.Index(fields=["last_seen_at"], condition=models.Q(presence="online"),
                         name="membership_online_seen"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization_id}"

    def has_permission(self, permission: str) -> bool:
        """What the role grants by itself (docs/permissions.md), plus the access profile."""
        if permission in ROLE_PERMISSIONS.get(self.role, frozenset()):
            return True
        return bool(self.access_profile and permission in self.access_profile.permissions)

    def permissions(self) -> frozenset[str]:
        """Every permission the agent holds, for templates hiding what they cannot open."""
        return frozenset(p for p in Permission.values if self.has_permission(p))


class ApiKey(TenantModel):
    """A Bearer key for the REST API. The secret is shown once and stored as a SHA-256 hash.

    A key bound to a channel may only post into that channel (the generic API channel).
    """

    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    channel = models.ForeignKey(
        "channels.Channel", null=True, blank=True, on_delete=models.CASCADE,
        related_name="api_keys", verbose_name=_("channel"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(TenantModel):
    """The first response to a request carrying an `Idempotency-Key`, replayed on retries."""

    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="uniq_idempotency_key")
        ]

    def __str__(self) -> str:
        return self.key


class SettingsAuditEntry(TenantModel):
    """Who changed what in the organisation's settings (an agent or a channel turned on or
    off), from what to what, and when. A ticket's own changes are in tickets.AuditEntry."""

    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_id = models.PositiveBigIntegerField()
    field = models.CharField(max_length=60, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("settings change")
        verbose_name_plural = _("settings changes")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "created_at"],
                                name="settings_audit_org_time")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id}"


class SignInCounter(models.Model):
    """Failed sign-ins (or password-reset requests) counted in a fixed window, under the hash
    of what is counted: an address and e-mail, an e-mail, or an address. In the database so
    that every web process, on both profiles, counts the same attempts."""

    key = models.CharField(max_length=64, unique=True)
    count = models.PositiveIntegerField(default=0)
    window_ends = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
