"""Customer accounts: sign-up with e-mail verification, sign-in by password or one-time
link, password reset.

Nothing here tells whether an address has an account: every request that names an
address answers the same way and sends its mail (or none, past the rate limit) out of
sight of the answer. Links are signed (`django.core.signing`, a salt per purpose and
organisation); sign-in and reset links carry the account's `link_generation`, bumped when
one is used or the password changes, so each works once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from atende.connectors.portal import mail
from atende.connectors.portal.models import CustomerAccount, PortalSession
from atende.contacts.models import IdentityKind
from atende.contacts.services import find_or_create_contact
from atende.tenancy import signin_limits
from atende.tenancy.models import Organization

logger = logging.getLogger(__name__)
VERIFY, SIGN_IN, RESET = "verify", "signin", "reset"
MAX_AGE = {VERIFY: 2 * 24 * 3600, SIGN_IN: 30 * 60, RESET: 30 * 60}
# Checked when no account matches, so a wrong address costs the same time as a wrong
# password.
_DUMMY_HASH = make_password("atende-portal-no-such-account")


class TooManyAttempts(Exception):
    pass


@dataclass(frozen=True)
class SignUp:
    """What a verification link carries: the account is created only when it is used."""

    email: str
    name: str


def _salt(org: Organization, purpose: str) -> str:
    return f"atende.portal.{purpose}.{org.pk}"


def _action(org: Organization, purpose: str) -> str:
    return f"portal-{purpose}:{org.pk}"


def _normal(email: str) -> str:
    return email.strip().lower()


def _may_send(org: Organization, purpose: str, ip: str, email: str) -> bool:
    """A few mails per address and e-mail every 15 minutes (the sign-in limits' counts):
    nobody floods a mailbox through the portal."""
    action = _action(org, purpose)
    if signin_limits.is_blocked(ip, email, action=action):
        return False
    signin_limits.record_failure(ip, email, action=action)
    return True


def account_by_email(org: Organization, email: str) -> CustomerAccount | None:
    return CustomerAccount.objects.for_org(org).filter(email=_normal(email)).first()


def request_sign_up(org: Organization, email: str, name: str, ip: str) -> None:
    """Send the verification link, or, when the address has an account already, a mail
    saying so. The caller answers the same either way."""
    email = _normal(email)
    if not _may_send(org, VERIFY, ip, email):
        return
    if account_by_email(org, email) is not None:
        mail.already_registered(email, org.name, mail.portal_url(org.slug, "portal:signin"),
                                mail.portal_url(org.slug, "portal:reset"))
        return
    token = signing.dumps({"e": email, "n": name.strip()[:200]}, salt=_salt(org, VERIFY))
    mail.verification(email, org.name, mail.portal_url(org.slug, "portal:verify", token=token))


def read_sign_up(org: Organization, token: str) -> SignUp | None:
    try:
        data = signing.loads(token, salt=_salt(org, VERIFY), max_age=MAX_AGE[VERIFY])
    except signing.BadSignature:
        return None
    return SignUp(str(data["e"]), str(data["n"]))


@transaction.atomic
def complete_sign_up(org: Organization, sign_up: SignUp, password: str) -> CustomerAccount | None:
    """Create the verified account (and find or create its contact by e-mail). None when
    the address has an account already (the link was used). Raises ValidationError for a
    weak password."""
    validate_password(password)
    if account_by_email(org, sign_up.email) is not None:
        return None
    contact = find_or_create_contact(org, IdentityKind.EMAIL, sign_up.email, sign_up.name)
    try:
        with transaction.atomic():
            return CustomerAccount.objects.create(
                organization=org, contact=contact, email=sign_up.email,
                password=make_password(password))
    except IntegrityError:  # the same link used twice at once
        return None


def authenticate(org: Organization, email: str, password: str, ip: str) -> CustomerAccount | None:
    """The account for this e-mail and password, or None; raises TooManyAttempts past the
    sign-in limits, whether or not the address has an account."""
    email = _normal(email)
    action = _action(org, "password")
    if signin_limits.is_blocked(ip, email, action=action):
        raise TooManyAttempts
    account = account_by_email(org, email)
    if not check_password(password, account.password if account else _DUMMY_HASH) \
            or account is None:
        signin_limits.record_failure(ip, email, action=action)
        return None
    signin_limits.record_success(ip, email, action=action)
    return account


def request_link(org: Organization, email: str, purpose: str, ip: str) -> None:
    """Mail a one-time sign-in (SIGN_IN) or password-reset (RESET) link if the address
    has an account; nothing otherwise. The caller answers the same either way."""
    email = _normal(email)
    if not _may_send(org, purpose, ip, email):
        return
    account = account_by_email(org, email)
    if account is None:
        return
    token = signing.dumps({"a": account.pk, "g": account.link_generation},
                          salt=_salt(org, purpose))
    if purpose == SIGN_IN:
        mail.sign_in_link(email, org.name, mail.portal_url(org.slug, "portal:link", token=token))
    else:
        mail.reset_link(email, org.name,
                        mail.portal_url(org.slug, "portal:reset-confirm", token=token))


def read_link(org: Organization, token: str, purpose: str) -> CustomerAccount | None:
    """The account a still-valid link names, without using it up."""
    try:
        data = signing.loads(token, salt=_salt(org, purpose), max_age=MAX_AGE[purpose])
    except signing.BadSignature:
        return None
    return CustomerAccount.objects.for_org(org).filter(
        pk=data.get("a"), link_generation=data.get("g")).first()


@transaction.atomic
def use_link(org: Organization, token: str, purpose: str) -> CustomerAccount | None:
    """Spend the link: the account, or None when it is invalid, expired or used."""
    account = read_link(org, token, purpose)
    if account is None:
        return None
    # Conditional on the generation: two concurrent uses, one wins.
    spent = CustomerAccount.objects.filter(
        pk=account.pk, link_generation=account.link_generation,
    ).update(link_generation=F("link_generation") + 1)
    if not spent:
        return None
    account.refresh_from_db()
    return account


@transaction.atomic
def set_password(account: CustomerAccount, password: str) -> None:
    """Raises ValidationError for a weak password. Ends every session of the account and
    every link sent before, and clears the account's failed sign-in count."""
    validate_password(password)
    account.password = make_password(password)
    account.link_generation += 1
    account.save(update_fields=["password", "link_generation"])
    PortalSession.objects.filter(account=account).delete()
    signin_limits.record_success("", account.email,
                                 action=f"portal-password:{account.organization_id}")


def signed_in(account: CustomerAccount) -> None:
    CustomerAccount.objects.filter(pk=account.pk).update(last_sign_in_at=timezone.now())


@transaction.atomic
def open_account(org: Organization, email: str, name: str, password: str) -> CustomerAccount:
    """A verified account for an address known to be the customer's (the demo, an
    import): created, or its password replaced. Skips the sign-up mail."""
    email = _normal(email)
    account = account_by_email(org, email)
    if account is None:
        contact = find_or_create_contact(org, IdentityKind.EMAIL, email, name)
        return CustomerAccount.objects.create(organization=org, contact=contact, email=email,
                                              password=make_password(password))
    set_password(account, password)
    return account
