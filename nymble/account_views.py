"""The two pages a mail links to: accept an invitation, set a new password. They call the same
services as `POST /api/auth/invitations/accept` and `/api/auth/password-reset/confirm`."""
from django import forms
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from rest_framework.exceptions import ValidationError

from nymble import logins


class PasswordForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=512)
    password = forms.CharField(label="New password", strip=False, required=False, widget=forms.PasswordInput)
    password_again = forms.CharField(label="New password, again", strip=False, required=False, widget=forms.PasswordInput)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return cleaned


PAGES = {
    "invitation": {
        "title": "Accept your invitation",
        "lead": "Accept to start working in this organization with your login. If an administrator chose your "
                "current password, choose your own below; otherwise you may leave it empty.",
        "done": "Accepted. Log in to {organization} (OrgCode {org_code}) with your email.",
    },
    "reset": {
        "title": "Choose a new password",
        "lead": "Setting a new password signs your login out everywhere.",
        "done": "Your password is set. Log in with it.",
    },
}


def _apply(kind: str, token: str, password: str) -> str:
    if kind == "invitation":
        membership = logins.invitation_accept(token=token, password=password or None)
        return PAGES[kind]["done"].format(organization=membership.organization.name,
                                          org_code=membership.organization.org_code)
    logins.password_reset_confirm(token=token, password=password)
    return PAGES[kind]["done"]


@never_cache
@csrf_protect
def account_page(request, kind: str):
    form = PasswordForm(request.POST or None, initial={"token": request.GET.get("token", "")})
    done = None
    if request.method == "POST" and form.is_valid():
        try:
            done = _apply(kind, form.cleaned_data["token"], form.cleaned_data["password"])
        except ValidationError as exc:
            for field, messages in exc.detail.items():
                form.add_error("password" if field == "Password" else None, [str(m) for m in messages])
    response = render(request, "accounts/password_page.html", {"page": PAGES[kind], "form": form, "done": done},
                      status=400 if request.method == "POST" and not done else 200)
    response["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response
