"""A change form whose save a service refuses comes back filled in as it was sent, with the
refusal on its fields: `Refused`, raised from a ModelAdmin's save inside the admin's transaction,
and the `RefusableAdmin`, `RefusableInline` and `RefusableFormSet` that show it. Every admin whose
service judges a whole page at once (a rep and its login, an order's credits, a plan with its
rules and tiers) uses it.
"""
import re

from django import forms
from django.contrib import messages
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from rest_framework.exceptions import APIException

from nymble.api.problems import Conflict, flatten_errors

# Django validates a change form and its inlines, then saves them; a service that refuses only
# when it is called (the shares of the credits together, a plan with its rules and tiers) would
# be a 500 there. So the save raises `Refused` inside the admin's transaction (which rolls back
# all of it), and the page is built again from the same POST with the refusal's messages added
# to the main form and to the inline rows they name: nothing saved, everything as it was typed.


class Refused(Exception):
    """A service refused a change form's save. `errors` maps (inline prefix or None for the main
    form, row index or None, field name or None) to messages."""

    def __init__(self, errors: dict[tuple, list[str]]):
        super().__init__(errors)
        self.errors = errors


WIRE_NAME = re.compile(r"^(?P<name>[A-Za-z]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>.+))?$")


def wire_parts(name: str) -> tuple[str, int | None, str]:
    """'Rules[2].Match.MaxLineAmount' → ('Rules', 2, 'Match.MaxLineAmount')."""
    match = WIRE_NAME.match(name)
    if match is None:
        return name, None, ""
    index = match.group("index")
    return match.group("name"), int(index) if index is not None else None, match.group("rest") or ""


def refusal_of(exc: APIException, route) -> Refused:
    """The service's refusal, each message sent where `route(wire_name)` says: a (prefix, index,
    field) target, or None for the main form's general errors (with the wire name in front). A
    conflict's sentence says more than its fields ("…are on a commission statement: void it
    first…"), so it goes where its first field would."""
    errors: dict[tuple, list[str]] = {}
    flat = getattr(exc, "errors", None) or flatten_errors(exc.detail)
    if isinstance(exc, Conflict) and isinstance(exc.detail, str):
        first = next(iter(flat), "") if isinstance(flat, dict) else ""
        target = route(first) if first else None
        prefix = target[0] if target else None
        errors[(prefix, None, None)] = [str(exc.detail)]
        return Refused(errors)
    for name, texts in flat.items():
        target = route(name) if name else None
        if target is None:
            errors.setdefault((None, None, None), []).extend(f"{name}: {t}" if name else t for t in texts)
        else:
            errors.setdefault(target, []).extend(texts)
    return Refused(errors)


def refusal_on_fields(exc: APIException, wire_to_field: dict[str, str]) -> Refused:
    """The refusal of a form without inlines, each message on the field its wire name names (a
    conflict's too: a taken RepNumber is said on the RepNumber field); the rest in general."""
    flat = getattr(exc, "errors", None) or flatten_errors(exc.detail)
    errors: dict[tuple, list[str]] = {}
    for name, texts in (flat.items() if isinstance(flat, dict) else [("", [str(flat)])]):
        field = wire_to_field.get(name)
        errors.setdefault((None, None, field), []).extend(texts if field or not name else [f"{name}: {t}" for t in texts])
    return Refused(errors)


def _add_errors(form, field, texts) -> None:
    if field is not None and field not in form.fields:
        texts, field = [f"{field.replace('_', ' ').capitalize()}: {t}" for t in texts], None
    form.add_error(field, list(texts))


class RefusableFormSet(BaseInlineFormSet):
    """Takes its part of a refusal (`refusal`, set for the request by `RefusableInline`). Rows are
    written all at once by a service, so they are not checked one by one against the rows stored
    now (a swap of two reps or two priorities is fine): the service judges the whole."""

    refusal: Refused | None = None

    def validate_unique(self):
        pass

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.validate_unique = lambda: None
        return form

    def clean(self):
        super().clean()
        if self.refusal is None:
            return
        general = []
        for (prefix, index, field), texts in self.refusal.errors.items():
            if prefix != self.prefix:
                continue
            if index is None or index >= len(self.forms):
                general.extend(texts)
            else:
                _add_errors(self.forms[index], field, texts)
        if general:
            raise forms.ValidationError(general)


class RefusableInline:
    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)  # a new class for each request
        formset.refusal = getattr(request, "nymble_refusal", None)
        return formset


class RefusableAdmin:
    """A ModelAdmin whose save may raise `Refused` (from save_model or save_related): the page is
    shown again as it was sent, with the refusal on it."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refused as refusal:  # the transaction around the save is rolled back
            request.nymble_refusal = refusal
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refused as refusal:  # a refusal no form took (cannot happen unless a route is wrong)
            for texts in refusal.errors.values():
                self.message_user(request, " ".join(texts), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "nymble_refusal", None)
        if refusal is None:
            return form

        class RefusedForm(form):
            def clean(self):
                cleaned = super().clean()
                for (prefix, index, field), texts in refusal.errors.items():
                    if prefix is None:
                        _add_errors(self, field, texts)
                return cleaned

        return RefusedForm

    @staticmethod
    def forget_saving(formsets) -> None:
        """For the change message: the service wrote the rows, not the formsets."""
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


def changed_rows(formset) -> list:
    """The rows of a formset that are kept (not deleted, not left empty), in the order shown."""
    return [form for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
            and (form.instance.pk is not None or form.has_changed())]
