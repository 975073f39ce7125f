"""§2 as an attacker tries it: keys from the source, a password chosen by another organization,
sessions that outlive a logout or a new password, and guessing passwords."""
import datetime
import ipaddress
import os
import re
import subprocess
import sys

import jwt
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from rest_framework.test import APIClient

from conftest import client_for
from nymble.models import Membership, User
from nymble.tests.factories import PASSWORD
from salesreps.models import OrganizationSalesRep

pytestmark = pytest.mark.django_db

TOKEN_IN_MAIL = re.compile(r'"Token": "([^"]+)"')
SOURCE_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"  # the fallback the first wave shipped


def login(api, email, password, org_code=None):
    body = {"Email": email, "Password": password, **({"OrgCode": org_code} if org_code else {})}
    return api.post("/api/auth/token", body, format="json")


def me(api, org):
    return api.get(f"/api/organizations/{org.id}")


def bearer(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def mailed_token(message) -> str:
    return TOKEN_IN_MAIL.search(message.body).group(1)


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


# ---------------------------------------------------------------- keys


def run_settings(env: dict, code: str = "print('started')") -> subprocess.CompletedProcess:
    program = f"import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'nymble.settings'; django.setup(); {code}"
    return subprocess.run([sys.executable, "-c", program], env={"PATH": os.environ["PATH"], **env},
                          capture_output=True, text=True, cwd=settings.BASE_DIR)


def test_production_refuses_to_start_without_its_own_keys():
    """Finding 1: with DEBUG off and DATABASE_URL set, the source's fallback key signed tokens."""
    production = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/nowhere"}
    refused = run_settings(production)
    assert refused.returncode != 0
    assert "SECRET_KEY and JWT_SIGNING_KEY" in refused.stderr and "ImproperlyConfigured" in refused.stderr
    only_one = run_settings({**production, "SECRET_KEY": "k" * 60})
    assert only_one.returncode != 0 and "need JWT_SIGNING_KEY" in only_one.stderr
    started = run_settings({**production, "SECRET_KEY": "k" * 60, "JWT_SIGNING_KEY": "j" * 60})
    assert started.returncode == 0 and "started" in started.stdout, started.stderr


def test_embedded_default_makes_random_keys_once_and_keeps_them(tmp_path):
    show = "from django.conf import settings as s; print(s.SECRET_KEY, s.SIMPLE_JWT['SIGNING_KEY'])"
    first = run_settings({"DATA_DIR": str(tmp_path)}, show)
    assert first.returncode == 0, first.stderr
    secret, jwt_key = first.stdout.split()
    assert secret != jwt_key and len(secret) >= 50 and SOURCE_KEY not in (secret, jwt_key)
    assert (tmp_path / "secret-keys.json").stat().st_mode & 0o077 == 0  # the owner's alone
    assert run_settings({"DATA_DIR": str(tmp_path)}, show).stdout.split() == [secret, jwt_key]  # a restart keeps sessions
    other = run_settings({"DATA_DIR": str(tmp_path / "elsewhere")}, show).stdout.split()
    assert other != [secret, jwt_key]


def test_a_token_signed_with_the_key_from_the_source_reads_nothing(tenant):
    forged = jwt.encode(
        {"token_type": "access", "exp": datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5),
         "jti": "forged", "user_id": tenant.admin.user_id, "mid": str(tenant.admin.pk), "ver": tenant.admin.token_version,
         "OrganizationId": str(tenant.org.id), "Roles": ["Admin"]},
        SOURCE_KEY, algorithm="HS256",
    )
    assert problem(bearer(forged).get("/api/customers"), 401)
    assert settings.SIMPLE_JWT["SIGNING_KEY"] != SOURCE_KEY and settings.SECRET_KEY != SOURCE_KEY


def test_production_settings_pass_djangos_deploy_check():
    production = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/nowhere", "SECRET_KEY": "s3cr3t-" * 10,
                  "JWT_SIGNING_KEY": "jwt-" * 15, "ALLOWED_HOSTS": "backoffice.example.com"}
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    clean = subprocess.run(command, env={"PATH": os.environ["PATH"], **production}, capture_output=True, text=True,
                           cwd=settings.BASE_DIR)
    assert clean.returncode == 0 and "no issues" in clean.stdout, clean.stderr
    plain_http = subprocess.run(command, env={"PATH": os.environ["PATH"], **production, "HTTPS_ONLY": "false"},
                                capture_output=True, text=True, cwd=settings.BASE_DIR)
    assert plain_http.returncode != 0
    assert all(code in plain_http.stderr for code in ("W004", "W008", "W012", "W016"))


# ---------------------------------------------------------------- a password belongs to its person


def share_rep(tenant, other_tenant, django_capture_on_commit_callbacks):
    """GLOBEX links ACME's rep: the login exists, so the membership waits for its person."""
    body = {"RepNumber": "G-1", "FirstName": "Marcus", "LastName": "Chen", "Email": tenant.rep.email}
    with django_capture_on_commit_callbacks(execute=True):
        created = other_tenant.admin_api.post(f"/api/organizations/{other_tenant.org.id}/salesreps", body, format="json")
    assert created.status_code == 201, created.json()
    return OrganizationSalesRep.objects.get(organization=other_tenant.org, rep_number="G-1")


def test_an_admin_cannot_open_another_organizations_door_with_a_password_it_chose(
    tenant, other_tenant, anon_api, mailoutbox, django_capture_on_commit_callbacks
):
    """Finding 2: ACME's admin chose the rep's password; GLOBEX linked the same email; ACME's admin
    then logged into GLOBEX as that rep. Now the GLOBEX membership is pending until the person
    accepts, and accepting makes them choose a password of their own, which ACME's admin does not know."""
    email = tenant.rep.email
    refused = other_tenant.admin_api.post(
        f"/api/organizations/{other_tenant.org.id}/salesreps",
        {"RepNumber": "G-1", "FirstName": "M", "LastName": "C", "Email": email, "Password": "globex-chose-it"},
        format="json",
    )
    assert "Password" in problem(refused, 400)["errors"]
    shared = share_rep(tenant, other_tenant, django_capture_on_commit_callbacks)
    assert shared.membership.pending
    assert problem(login(anon_api, email, PASSWORD, "GLOBEX"), 401)["detail"].startswith("Accept the invitation")
    assert login(anon_api, email, PASSWORD).status_code == 200  # one organization it works in: no OrgCode needed

    (invitation,) = mailoutbox
    assert invitation.to == [email] and "Globex" in invitation.subject
    assert f"{settings.PUBLIC_URL}/accounts/invitation/?token=" in invitation.body
    token = mailed_token(invitation)
    acme_session = login(anon_api, email, PASSWORD, "ACME").json()
    # ACME's admin chose the current password, so the person must choose their own to accept.
    assert "Password" in problem(anon_api.post("/api/auth/invitations/accept", {"Token": token}, format="json"), 400)["errors"]
    accepted = anon_api.post("/api/auth/invitations/accept", {"Token": token, "Password": "mine-alone-42"}, format="json")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json() == {"OrganizationId": str(other_tenant.org.id), "OrgCode": "GLOBEX", "Role": "SalesRep",
                               "Email": email}
    assert login(anon_api, email, PASSWORD, "GLOBEX").status_code == 401  # the password ACME's admin chose is gone
    assert login(anon_api, email, PASSWORD, "ACME").status_code == 401
    assert login(anon_api, email, "mine-alone-42", "GLOBEX").status_code == 200
    assert login(anon_api, email, "mine-alone-42", "ACME").status_code == 200
    assert me(bearer(acme_session["AccessToken"]), tenant.org).status_code == 401  # the new password ended it
    again = anon_api.post("/api/auth/invitations/accept", {"Token": token, "Password": "again-and-again"}, format="json")
    assert "Token" in problem(again, 400)["errors"]  # once


def test_a_person_who_chose_their_own_password_accepts_with_the_token_alone(
    tenant, other_tenant, anon_api, mailoutbox, django_capture_on_commit_callbacks
):
    from nymble.logins import login_set_password

    login_set_password(user=User.objects.get(email=tenant.rep.email), password="my-own-choice", by_admin=False)
    share_rep(tenant, other_tenant, django_capture_on_commit_callbacks)
    accepted = anon_api.post("/api/auth/invitations/accept", {"Token": mailed_token(mailoutbox[0])}, format="json")
    assert accepted.status_code == 200, accepted.json()
    assert login(anon_api, tenant.rep.email, "my-own-choice", "GLOBEX").status_code == 200


def test_invitation_tokens_expire_and_cannot_be_forged(
    tenant, other_tenant, anon_api, mailoutbox, django_capture_on_commit_callbacks
):
    share_rep(tenant, other_tenant, django_capture_on_commit_callbacks)
    token = mailed_token(mailoutbox[0])
    with override_settings(INVITATION_TIMEOUT=-1):
        expired = anon_api.post("/api/auth/invitations/accept", {"Token": token, "Password": "mine-alone-42"}, format="json")
    assert "Token" in problem(expired, 400)["errors"]
    forged = anon_api.post("/api/auth/invitations/accept", {"Token": token[:-2] + "xx", "Password": "x" * 12}, format="json")
    assert "Token" in problem(forged, 400)["errors"]
    assert Membership.objects.get(organization=other_tenant.org, user__email=tenant.rep.email).pending


def test_a_portal_login_for_an_existing_email_is_an_invitation_too(
    tenant, other_tenant, mailoutbox, django_capture_on_commit_callbacks
):
    from customers.services import portal_login_create
    from customers.tests.factories import CustomerFactory

    customer = CustomerFactory(organization=other_tenant.org, customer_number="G-77", sales_rep=other_tenant.rep)
    contact = customer.contacts.create(first_name="Jane", last_name="Doe", email=tenant.portal.user.email)
    with pytest.raises(Exception) as refused:
        portal_login_create(contact=contact, password="globex-chose-it")
    assert "Password" in str(refused.value.detail)
    with django_capture_on_commit_callbacks(execute=True):
        portal_login_create(contact=contact, password=None)
    contact.refresh_from_db()
    assert contact.portal_membership.pending and mailoutbox[0].to == [tenant.portal.user.email]


# ---------------------------------------------------------------- password reset


def test_password_reset_never_tells_whether_an_email_is_known(tenant, anon_api, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        known = anon_api.post("/api/auth/password-reset", {"Email": tenant.rep.email.upper()}, format="json")
        unknown = anon_api.post("/api/auth/password-reset", {"Email": "nobody@nowhere.test"}, format="json")
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert [m.to for m in mailoutbox] == [[tenant.rep.email]]
    assert "Email" in problem(anon_api.post("/api/auth/password-reset", {}, format="json"), 400)["errors"]


def test_password_reset_sets_a_new_password_once_and_ends_every_session_everywhere(
    tenant, other_tenant, anon_api, client, mailoutbox, django_capture_on_commit_callbacks
):
    from nymble.tests.factories import accept_invitation
    from salesreps.tests.factories import SalesRepFactory

    email = tenant.rep.email
    accept_invitation(SalesRepFactory(organization=other_tenant.org, rep_number="G-1", email=email).membership)
    acme = login(anon_api, email, PASSWORD, "ACME").json()
    globex = login(anon_api, email, PASSWORD, "GLOBEX").json()
    with django_capture_on_commit_callbacks(execute=True):
        anon_api.post("/api/auth/password-reset", {"Email": email}, format="json")
    (mail,) = mailoutbox
    assert f"{settings.PUBLIC_URL}/accounts/reset/?token=" in mail.body
    token = mailed_token(mail)
    short = anon_api.post("/api/auth/password-reset/confirm", {"Token": token, "Password": "short"}, format="json")
    assert "Password" in problem(short, 400)["errors"]
    assert login(anon_api, email, PASSWORD, "ACME").status_code == 200  # a refused confirm changes nothing
    done = anon_api.post("/api/auth/password-reset/confirm", {"Token": token, "Password": "reset-and-mine"}, format="json")
    assert done.status_code == 204
    for session, org in ((acme, tenant.org), (globex, other_tenant.org)):
        assert me(bearer(session["AccessToken"]), org).status_code == 401
        refreshed = anon_api.post("/api/auth/token/refresh", {"RefreshToken": session["RefreshToken"]}, format="json")
        assert refreshed.status_code == 401
    assert login(anon_api, email, "reset-and-mine", "GLOBEX").status_code == 200
    replay = anon_api.post("/api/auth/password-reset/confirm", {"Token": token, "Password": "third-time-x"}, format="json")
    assert "Token" in problem(replay, 400)["errors"]


def test_password_reset_tokens_expire_after_the_hour(tenant, anon_api, mailoutbox, django_capture_on_commit_callbacks):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    with django_capture_on_commit_callbacks(execute=True):
        anon_api.post("/api/auth/password-reset", {"Email": tenant.rep.email}, format="json")
    with override_settings(PASSWORD_RESET_TIMEOUT=-1):
        late = anon_api.post("/api/auth/password-reset/confirm",
                             {"Token": mailed_token(mailoutbox[0]), "Password": "too-late-now"}, format="json")
    assert "Token" in problem(late, 400)["errors"]
    for garbage in ("", "x", "MTI.nope", "!!!.???"):
        refused = anon_api.post("/api/auth/password-reset/confirm", {"Token": garbage, "Password": "whatever-9"},
                                format="json")
        assert refused.status_code == 400


def test_a_new_password_from_the_django_admin_ends_api_sessions_too(tenant):
    session = client_for(tenant.rep.membership)
    user = User.objects.get(email=tenant.rep.email)
    user.set_password("set-in-the-admin")
    user.save()
    assert me(session, tenant.org).status_code == 401


# ---------------------------------------------------------------- logout


def test_logout_ends_the_access_tokens_of_its_session_and_no_other(tenant, anon_api):
    """Found in the attack: after logout, the session's access tokens kept working to expiry."""
    first = login(anon_api, tenant.admin.user.email, PASSWORD).json()
    second = login(anon_api, tenant.admin.user.email, PASSWORD).json()
    refreshed = anon_api.post("/api/auth/token/refresh", {"RefreshToken": first["RefreshToken"]}, format="json").json()
    assert anon_api.post("/api/auth/logout", {"RefreshToken": first["RefreshToken"]}, format="json").status_code == 204
    assert problem(me(bearer(first["AccessToken"]), tenant.org), 401)
    assert problem(me(bearer(refreshed["AccessToken"]), tenant.org), 401)
    assert me(bearer(second["AccessToken"]), tenant.org).status_code == 200  # another device stays logged in


# ---------------------------------------------------------------- login limits


def from_address(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def test_ten_wrong_passwords_lock_that_email_at_that_address_only(tenant):
    """Found in the attack: 30 wrong passwords in a row were all answered, then the right one worked."""
    attacker, owner = from_address("203.0.113.7"), from_address("198.51.100.4")
    email = tenant.rep.email
    statuses = [login(attacker, email, f"guess-{n}").status_code for n in range(10)]
    assert statuses == [401] * 10
    locked = login(attacker, email, PASSWORD)  # even the right password waits
    assert problem(locked, 429) and 1 <= int(locked["Retry-After"]) <= 15 * 60
    assert login(attacker, tenant.admin.user.email, PASSWORD).status_code == 200  # other emails from there still work
    assert login(owner, email, PASSWORD).status_code == 200  # and the person from elsewhere is not locked out


def test_a_success_clears_the_count_for_that_email_and_address(tenant):
    api = from_address("203.0.113.8")
    for _ in range(9):
        assert login(api, tenant.rep.email, "typo-typo").status_code == 401
    assert login(api, tenant.rep.email, PASSWORD).status_code == 200
    assert [login(api, tenant.rep.email, "typo-typo").status_code for _ in range(10)] == [401] * 10
    assert login(api, tenant.rep.email, PASSWORD).status_code == 429


def test_a_hundred_failures_from_one_address_lock_the_address(tenant):
    sprayer = from_address("203.0.113.99")
    statuses = {login(sprayer, f"user{n}@spray.test", "Winter2026!").status_code for n in range(100)}
    assert statuses == {401}
    locked = login(sprayer, tenant.admin.user.email, PASSWORD)
    assert problem(locked, 429) and int(locked["Retry-After"]) <= 15 * 60
    assert login(from_address("198.51.100.5"), tenant.admin.user.email, PASSWORD).status_code == 200


def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(tenant):
    email = tenant.rep.email

    def via(forwarded, remote="10.0.0.2"):
        return APIClient(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    # Untrusted: a header of the client's own choosing changes nothing, so it cannot dodge the limit.
    for n in range(10):
        assert login(via(f"192.0.2.{n}"), email, "guess").status_code == 401
    assert login(via("192.0.2.200"), email, PASSWORD).status_code == 429
    with override_settings(TRUSTED_PROXIES=[ipaddress.ip_network("10.0.0.0/24")]):
        for _ in range(10):
            assert login(via("spoofed, 198.51.100.1", remote="10.0.0.3"), email, "guess").status_code == 401
        assert login(via("198.51.100.1", remote="10.0.0.3"), email, PASSWORD).status_code == 429
        assert login(via("198.51.100.2", remote="10.0.0.3"), email, PASSWORD).status_code == 200  # its neighbour


def test_first_admin_of_create_organization_logs_into_the_django_admin(db, client):
    call_command("create_organization", "Initech", "--code", "INIT", "--admin-email", "boss@initech.test",
                 "--admin-password", "pass-word-1", stdout=open(os.devnull, "w"))
    response = client.post("/admin/login/?next=/admin/", {"username": "boss@initech.test", "password": "pass-word-1"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_links_in_the_mails_open_pages_that_do_what_the_api_does(
    tenant, other_tenant, client, anon_api, mailoutbox, django_capture_on_commit_callbacks
):
    share_rep(tenant, other_tenant, django_capture_on_commit_callbacks)
    link = re.search(r"http\S+/accounts/invitation/\S+", mailoutbox[0].body).group(0)
    path = link.removeprefix(settings.PUBLIC_URL)
    page = client.get(path)
    assert page.status_code == 200 and page["Referrer-Policy"] == "no-referrer"
    assert b"Accept your invitation" in page.content
    token = mailed_token(mailoutbox[0])
    differ = client.post(path, {"token": token, "password": "mine-alone-42", "password_again": "mine-alone-43"})
    assert differ.status_code == 400 and b"The two passwords differ" in differ.content
    needs_own = client.post(path, {"token": token})
    assert needs_own.status_code == 400 and b"choose your own" in needs_own.content
    done = client.post(path, {"token": token, "password": "mine-alone-42", "password_again": "mine-alone-42"})
    assert done.status_code == 200 and b"Accepted" in done.content and b"GLOBEX" in done.content
    assert login(anon_api, tenant.rep.email, "mine-alone-42", "GLOBEX").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        anon_api.post("/api/auth/password-reset", {"Email": tenant.rep.email}, format="json")
    reset_path = re.search(r"http\S+/accounts/reset/\S+", mailoutbox[1].body).group(0).removeprefix(settings.PUBLIC_URL)
    token = mailed_token(mailoutbox[1])
    done = client.post(reset_path, {"token": token, "password": "reset-by-page", "password_again": "reset-by-page"})
    assert done.status_code == 200 and b"Your password is set" in done.content
    assert login(anon_api, tenant.rep.email, "reset-by-page", "ACME").status_code == 200
    replay = client.post(reset_path, {"token": token, "password": "again-by-page", "password_again": "again-by-page"})
    assert replay.status_code == 400 and b"not valid" in replay.content


def test_the_admin_login_counts_against_the_same_limits(tenant, client):
    user = tenant.admin.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    for n in range(10):
        page = client.post("/admin/login/", {"username": user.email, "password": f"guess-{n}"}, REMOTE_ADDR="203.0.113.5")
        assert page.status_code == 200 and b"Please enter the correct" in page.content
    locked = client.post("/admin/login/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.5")
    assert locked.status_code == 200 and b"Too many failed logins" in locked.content
    assert problem(login(APIClient(REMOTE_ADDR="203.0.113.5"), user.email, PASSWORD), 429)  # one count for both doors
    elsewhere = client.post("/admin/login/?next=/admin/", {"username": user.email, "password": PASSWORD},
                            REMOTE_ADDR="198.51.100.9")
    assert elsewhere.status_code == 302


def test_a_reset_ends_the_persons_admin_sessions_too(tenant, staff_client, anon_api, mailoutbox,
                                                     django_capture_on_commit_callbacks):
    assert staff_client.get("/admin/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        anon_api.post("/api/auth/password-reset", {"Email": tenant.admin.user.email}, format="json")
    done = anon_api.post("/api/auth/password-reset/confirm",
                         {"Token": mailed_token(mailoutbox[0]), "Password": "brand-new-admin-pass"}, format="json")
    assert done.status_code == 204
    assert staff_client.get("/admin/")["Location"].startswith("/admin/login/")


def test_staff_resend_an_invitation_and_the_earlier_one_stops_working(
    tenant, other_tenant, anon_api, mailoutbox, django_capture_on_commit_callbacks
):
    shared = share_rep(tenant, other_tenant, django_capture_on_commit_callbacks)
    first = mailed_token(mailoutbox[0])
    admin_user = other_tenant.admin.user
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/nymble/membership/", {"action": "resend_invitation",
                                                             "_selected_action": [str(shared.membership_id)]})
    assert response.status_code == 302 and len(mailoutbox) == 2
    stale = anon_api.post("/api/auth/invitations/accept", {"Token": first, "Password": "mine-alone-42"}, format="json")
    assert "Token" in problem(stale, 400)["errors"]
    fresh = anon_api.post("/api/auth/invitations/accept", {"Token": mailed_token(mailoutbox[1]), "Password": "mine-alone-42"},
                          format="json")
    assert fresh.status_code == 200


def test_a_portal_login_for_an_email_of_another_organization_goes_by_invitation_through_the_api(
    tenant, other_tenant, anon_api, mailoutbox, django_capture_on_commit_callbacks
):
    from customers.tests.factories import CustomerFactory

    customer = CustomerFactory(organization=other_tenant.org, customer_number="G-78", sales_rep=other_tenant.rep)
    contact = customer.contacts.create(first_name="Jane", last_name="Doe", email=tenant.portal.user.email)
    path = f"/api/customers/G-78/contacts/{contact.pk}/portal-login"
    refused = other_tenant.admin_api.post(path, {"Password": "globex-chose-it"}, format="json")
    assert "Password" in problem(refused, 400)["errors"]
    with django_capture_on_commit_callbacks(execute=True):
        invited = other_tenant.admin_api.post(path, {}, format="json")
    assert invited.status_code in (200, 201), invited.content
    assert mailoutbox[0].to == [tenant.portal.user.email]
    assert login(anon_api, tenant.portal.user.email, PASSWORD, "GLOBEX").status_code == 401  # until accepted
