"""Logins and their memberships: who may act where, and a password that belongs to its person.

An organization's admin chooses the password of a login only while that login is its own (new,
or belonging to no other organization). Linking a login that exists already makes a *pending*
membership and mails the person an invitation; the membership works once the person accepts, and
a person whose password an admin chose picks their own then. Anyone can reset a forgotten
password by mail. A new password ends every session of the login everywhere (`User.save`).
Password logins are limited per email and address and per address (`nymble.ratelimit`).
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework import exceptions, serializers

from audit.services import audit_record, audit_snapshot
from nymble.api.problems import Conflict
from nymble.emails import email_send_after_commit, public_link
from nymble.models import Membership, Organization, Role, User
from nymble.ratelimit import FailureWindow, limit_hit

INVITATION_SALT = "nymble.invitation"
ROLE_LABELS = {Role.ADMIN: "an admin", Role.SALES_REP: "a sales rep", Role.CUSTOMER: "a customer portal user"}


class TooManyLogins(exceptions.Throttled):
    default_detail = "Too many failed logins from this address; try again later."


class WrongCredentials(exceptions.AuthenticationFailed):
    default_detail = "Email or password is wrong."


def _invalid(field: str, message) -> serializers.ValidationError:
    return serializers.ValidationError({field: message if isinstance(message, list) else [message]})


# ---------------------------------------------------------------- linking logins to organizations


def belongs_elsewhere(user: User, organization: Organization) -> bool:
    """Whether anyone but this organization has a say over the login: a membership (pending
    ones too) in another organization, or a superuser, who answers to no organization."""
    return user.is_superuser or user.memberships.exclude(organization=organization).exists()


def login_link(*, email: str, organization: Organization, role: str, password: str | None = None,
               trusted: bool = False) -> Membership:
    """The membership of `email` in `organization`, creating the login if it is new.

    A new login gets `password` (chosen by an admin, so its person is asked for their own when
    another organization invites them). An existing login keeps its password: `password` is a 400
    when the login belongs elsewhere, and the membership is pending until its person accepts the
    invitation mailed now. `trusted` (the operator's `create_organization`) links at once."""
    email = User.objects.normalize_login(email)
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, password_set_by_admin=bool(password) and not trusted)
        created = True
    except IntegrityError:  # it exists (perhaps created by a concurrent request: the same person)
        user = User.objects.get(email__iexact=email)
        created = False
    if Membership.objects.filter(user=user, organization=organization).exists():
        raise Conflict(errors={"Email": [f"{email} already has a login in this organization."]})
    pending = False
    if not created and not trusted:
        if password and belongs_elsewhere(user, organization):
            raise _invalid("Password", "This login already belongs to another organization: its person keeps their "
                                       "own password and is invited by email instead. Leave Password out.")
        if password:
            login_set_password(user=user, password=password, by_admin=True)
        else:
            pending = True
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                user=user, organization=organization, role=role, pending=pending,
                invited_at=timezone.now() if pending else None,
            )
    except IntegrityError:  # a concurrent request gave this login a role here first
        raise Conflict(errors={"Email": [f"{email} already has a login in this organization."]}) from None
    audit_record(membership, "created", object_id=email)
    if pending:
        invitation_send(membership=membership)
    return membership


def login_set_password(*, user: User, password: str, by_admin: bool) -> None:
    """Sets the password; saving it ends every session of the login (see `User.save`)."""
    user.set_password(password)
    user.password_set_by_admin = by_admin
    user.save(update_fields=["password", "password_set_by_admin"])
    # One entry in each organization of the login (never the password); a person choosing their
    # own password acts for themselves, also where nobody is logged in (reset, invitation).
    for membership in user.memberships.all():
        audit_record(membership, "password_changed", changes={}, object_id=user.email,
                     actor=None if by_admin else user.email)


def password_checked(password: str, user: User | None = None, field: str = "Password") -> str:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise _invalid(field, list(exc.messages)) from None
    return password


# ---------------------------------------------------------------- invitations


def invitation_token(membership: Membership) -> str:
    return signing.dumps({"m": str(membership.pk), "i": membership.invited_at.isoformat()}, salt=INVITATION_SALT)


def invitation_send(*, membership: Membership) -> None:
    """Mails the person an invitation to the pending membership (after commit)."""
    token = invitation_token(membership)
    email_send_after_commit(
        to=membership.user.email,
        template="invitation",
        context={
            "organization": membership.organization,
            "email": membership.user.email,
            "role_label": ROLE_LABELS.get(membership.role, membership.role),
            "token": token,
            "link": public_link(f"/accounts/invitation/?token={token}"),
            "password_required": _must_choose_password(membership.user),
        },
    )


@transaction.atomic
def invitations_resend(*, memberships) -> int:
    """A fresh invitation for each pending membership; the earlier ones stop working (the token
    names the time of its invitation)."""
    sent = 0
    for membership in memberships.filter(pending=True).select_for_update(of=("self",)).select_related("user", "organization"):
        before = audit_snapshot(membership)
        membership.invited_at = timezone.now()
        membership.save(update_fields=["invited_at"])
        audit_record(membership, "invitation_sent", before=before, object_id=membership.user.email)
        invitation_send(membership=membership)
        sent += 1
    return sent


def _must_choose_password(user: User) -> bool:
    return user.password_set_by_admin or not user.has_usable_password()


@transaction.atomic
def invitation_accept(*, token: str, password: str | None = None) -> Membership:
    """Makes the pending membership work. Good for `INVITATION_TIMEOUT` and once; a login whose
    password an admin chose (or that has none) must choose its own here."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_TIMEOUT)
    except signing.BadSignature:
        raise _invalid("Token", "This invitation is not valid or has expired.") from None
    membership = (
        Membership.objects.select_for_update(of=("self",)).select_related("user", "organization")
        .filter(pk=data.get("m")).first()
    )
    if (
        membership is None
        or not membership.pending
        or membership.invited_at is None
        or membership.invited_at.isoformat() != data.get("i")
    ):
        raise _invalid("Token", "This invitation has been used or withdrawn.")
    user = membership.user
    if password:
        login_set_password(user=user, password=password_checked(password, user), by_admin=False)
    elif _must_choose_password(user):
        raise _invalid("Password", "Your password was chosen by an organization's admin (or you have none): "
                                   "choose your own to accept.")
    membership.pending = False
    membership.save(update_fields=["pending"])
    audit_record(membership, "invitation_accepted", changes={"pending": [True, False]}, object_id=user.email,
                 actor=user.email)
    return membership


# ---------------------------------------------------------------- password reset


def _reset_token(user: User) -> str:
    return f"{urlsafe_base64_encode(force_bytes(user.pk))}.{default_token_generator.make_token(user)}"


def password_reset_request(*, email: str) -> None:
    """Mails a reset link if the email is an active login; says nothing either way. At most five
    mails an hour per email, so nobody floods an inbox."""
    email = User.objects.normalize_login(email)
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or limit_hit(f"password-reset:{user.pk}", limit=5, window_seconds=3600):
        return
    token = _reset_token(user)
    email_send_after_commit(
        to=user.email,
        template="password_reset",
        context={"email": user.email, "token": token, "link": public_link(f"/accounts/reset/?token={token}")},
    )


@transaction.atomic
def password_reset_confirm(*, token: str, password: str) -> User:
    """Sets the password of the login the token was mailed for. Django's token is good for
    `PASSWORD_RESET_TIMEOUT` and dies with the password it replaces, so it works once."""
    uid, _, raw = (token or "").partition(".")
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        pk = None
    user = User.objects.select_for_update().filter(pk=pk, is_active=True).first() if pk else None
    if user is None or not default_token_generator.check_token(user, raw):
        raise _invalid("Token", "This reset link is not valid, has been used or has expired.")
    login_set_password(user=user, password=password_checked(password, user), by_admin=False)
    return user


# ---------------------------------------------------------------- password login


def _email_and_address_window() -> FailureWindow:
    return FailureWindow("login-email-address", settings.LOGIN_FAILURES_PER_EMAIL_AND_ADDRESS,
                         settings.LOGIN_FAILURE_WINDOW_SECONDS)


def _address_window() -> FailureWindow:
    return FailureWindow("login-address", settings.LOGIN_FAILURES_PER_ADDRESS, settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_guard(*, email: str, address: str) -> None:
    """429 while the address has used up its failures (for this email, or for all): even the right
    password waits, so guessing gains nothing; other addresses are not affected."""
    pair = f"{User.objects.normalize_login(email)}|{address}"
    waits = [w for w in (_email_and_address_window().retry_after(pair), _address_window().retry_after(address)) if w]
    if waits:
        raise TooManyLogins(wait=max(waits))


def login_failed(*, email: str, address: str) -> None:
    _email_and_address_window().record(f"{User.objects.normalize_login(email)}|{address}")
    _address_window().record(address)


def login_succeeded(*, email: str, address: str) -> None:
    _email_and_address_window().clear(f"{User.objects.normalize_login(email)}|{address}")


def login_with_password(*, email: str, password: str, org_code: str | None, address: str) -> Membership:
    """The membership a login acts as. Wrong credentials are counted against the address; they and
    disabled logins are both a 401."""
    login_guard(email=email, address=address)
    try:
        membership = _authenticate(email=email, password=password, org_code=org_code)
    except WrongCredentials:
        login_failed(email=email, address=address)
        raise
    login_succeeded(email=email, address=address)
    return membership


def _authenticate(*, email: str, password: str, org_code: str | None) -> Membership:
    user = User.objects.filter(email__iexact=User.objects.normalize_login(email)).first()
    if user is None:
        make_password(password)  # same work as a real check, so timing does not reveal the email
        raise WrongCredentials()
    if not user.check_password(password):
        raise WrongCredentials()
    memberships = list(user.memberships.select_related("organization"))
    if org_code:
        memberships = [m for m in memberships if m.organization.org_code.lower() == org_code.strip().lower()]
    else:
        memberships = [m for m in memberships if not m.pending]
        if len(memberships) > 1:
            raise _invalid("OrgCode", "This login belongs to several organizations: name one.")
    if len(memberships) != 1:
        raise WrongCredentials()
    membership = memberships[0]
    if membership.pending:
        raise exceptions.AuthenticationFailed("Accept the invitation to this organization first (it was emailed).")
    if not (membership.is_active and user.is_active):
        raise exceptions.AuthenticationFailed("This login is inactive.")
    return membership
