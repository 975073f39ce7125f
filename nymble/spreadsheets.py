"""Spreadsheets in the admin (django-import-export underneath).

Import: a CSV or XLSX file is read by django-import-export, and each row becomes the body of the
API's upsert (`PUT /api/customers`, `PUT /api/products`), checked by the same serializer and
written by the same service, so the same rules refuse the same rows with the same messages. The
preview runs every row inside a transaction that is rolled back, and shows each row's outcome
(new, changed, unchanged, or refused and why); the confirmation runs them again in one
transaction that is rolled back whole if any row is refused, so nothing is half imported.

Export: every list of the admin exports to CSV what its page lists (its columns, filters, search
and the staff user's scope); customers and products export in their import layout.
"""
from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import display_for_field, display_for_value, label_for_field, lookup_field
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import strip_tags
from import_export import resources
from import_export.admin import ExportMixin, ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import RowResult
from import_export.tmp_storages import CacheStorage
from rest_framework.exceptions import APIException
import tablib

from nymble.api.problems import flatten_errors
from nymble.models import Organization
from nymble.scoping import principal_of

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000  # each row runs the upsert service twice (preview, confirm): ~40 queries a row
TRUE, FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}
# Never exported, whatever a list shows.
SECRET = re.compile(r"password|secret|hash|token", re.IGNORECASE)
# A cell a spreadsheet would read as a formula (CSV injection); text cells only.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class RowRefused(Exception):
    """A row the import refuses, with its reasons by column."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


# ---------------------------------------------------------------- cells


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value) -> str:
    """A cell as text: spreadsheets turn `1001` into a number and dates into dates."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def cell_bool(value, column: str) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise RowRefused({column: ["Must be TRUE or FALSE (or yes/no)."]})


def cell_int(value, column: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = cell_text(value).strip()
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    raise RowRefused({column: ["Must be a whole number."]})


def cell_amount(value, column: str) -> str:
    """An amount as the API's text of a decimal (a float from XLSX as it is shown: 18.5 → "18.5")."""
    text = cell_text(value).strip()
    try:
        Decimal(text)
    except InvalidOperation:
        raise RowRefused({column: ["Must be an amount such as 18.50."]}) from None
    return text


def guarded(value):
    """Text cells of an export that a spreadsheet would run as a formula get a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return f"'{value}"
    return value


# ---------------------------------------------------------------- column layout


class Group:
    """Numbered columns that make one nested list: `Address1.City`, `Address2.City`, … → `Addresses`.
    `fields` maps a column's suffix to the API's field and the cell's kind."""

    def __init__(self, prefix: str, wire: str, fields: dict[str, tuple[str, str]]):
        self.prefix, self.wire, self.fields = prefix, wire, fields
        self.pattern = re.compile(rf"^{prefix}(\d+)\.(\w+)$", re.IGNORECASE)

    def suffix_of(self, wire_field: str) -> str:
        return next((suffix for suffix, (wire, _) in self.fields.items() if wire == wire_field), wire_field)


class ServiceResource(resources.Resource):
    """Rows upserted through a service; subclasses name the columns and call the service."""

    key: str = ""  # the column rows are matched by (CustomerNumber, Sku)
    columns: dict[str, str] = {}  # column -> kind: "text", "bool", "int", "amount"
    required: tuple[str, ...] = ()
    groups: tuple[Group, ...] = ()
    attribute_prefix: str | None = None  # `Attribute.Region` columns, for customers

    class Meta:
        instance_loader_class = BaseInstanceLoader
        use_transactions = True
        skip_diff = True

    @classmethod
    def get_display_name(cls) -> str:
        return getattr(cls._meta, "name", None) or cls.__name__

    def __init__(self, *, organization: Organization | None = None, actor=None, **kwargs):
        super().__init__(**kwargs)
        self.organization, self.actor = organization, actor
        self.layout_refused = False
        self.kinds: dict | None = None

    # --- what a subclass says

    def validated(self, body: dict) -> dict:
        """The body through the API's serializer (a refusal is the API's 400)."""
        raise NotImplementedError

    def upsert(self, data: dict):
        """The API's upsert service on validated data: (object, created)."""
        raise NotImplementedError

    def representation(self, key: str) -> dict | None:
        """The stored object as the API shows it (ids and times left out), or None."""
        raise NotImplementedError

    def attribute_kinds(self) -> dict[str, str]:
        return {}

    # --- headers

    def layout_errors(self, headers: list) -> list[str]:
        known = {name.lower() for name in self.columns}
        unknown, seen = [], set()
        for header in headers:
            name = cell_text(header).strip() if header is not None else ""
            if not name:
                continue
            if name.lower() in seen:
                unknown.append(f"Column '{name}' is given twice.")
            seen.add(name.lower())
            if name.lower() in known or any(group.pattern.match(name) for group in self.groups):
                group = next((g for g in self.groups if g.pattern.match(name)), None)
                if group is not None:
                    suffix = group.pattern.match(name).group(2).lower()
                    if suffix not in {f.lower() for f in group.fields}:
                        unknown.append(f"Unknown column '{name}': a {group.prefix} has "
                                       f"{', '.join(group.fields)}.")
                continue
            if self.attribute_prefix and name.lower().startswith(self.attribute_prefix.lower() + "."):
                continue
            unknown.append(f"Unknown column '{name}'.")
        missing = [column for column in self.required if column.lower() not in seen]
        errors = list(unknown)
        if missing:
            errors.append(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")
        if unknown:
            errors.append(f"The columns are: {', '.join(self.columns)}"
                          + "".join(f", {g.prefix}N.{{{','.join(g.fields)}}}" for g in self.groups)
                          + (f", {self.attribute_prefix}.<Key>" if self.attribute_prefix else "") + ".")
        return errors

    def before_import(self, dataset, **kwargs):
        if self.organization is None:
            self.layout_refused = True
            raise ValidationError("Choose the organization to import into.")
        errors = self.layout_errors(list(dataset.headers or []))
        if errors:
            self.layout_refused = True  # the rows are not read
            raise ValidationError(errors)
        blank = [i for i, row in enumerate(dataset) if all(is_blank(v) for v in row)]
        for index in reversed(blank):  # a spreadsheet's trailing empty lines are no rows
            del dataset[index]
        if len(dataset) > MAX_ROWS:
            raise ValidationError(f"The file has {len(dataset)} rows; at most {MAX_ROWS} are imported at once: "
                                  "split it.")

    # --- a row

    def body_of(self, row: dict) -> dict:
        """The row as the API's body; cells are converted to the types the API takes."""
        by_lower = {name.lower(): name for name in self.columns}
        if self.kinds is None:  # read once per import
            self.kinds = {name.lower(): kind for name, kind in self.attribute_kinds().items()}
        kinds = self.kinds
        body, errors, nested, attributes, has_group = {}, {}, {}, {}, set()
        for header, value in row.items():
            name = cell_text(header).strip() if header is not None else ""
            if not name:
                continue
            try:
                if name.lower() in by_lower:
                    column = by_lower[name.lower()]
                    if not is_blank(value):
                        body[column] = self.converted(self.columns[column], value, column)
                    continue
                group = next((g for g in self.groups if g.pattern.match(name)), None)
                if group is not None:
                    has_group.add(group)
                    number, suffix = group.pattern.match(name).groups()
                    wire, kind = next(spec for f, spec in group.fields.items() if f.lower() == suffix.lower())
                    if not is_blank(value):
                        item = nested.setdefault(group, {}).setdefault(int(number), {})
                        item[wire] = self.converted(kind, value, name)
                    continue
                key = name.split(".", 1)[1]
                if not is_blank(value):
                    attributes[key] = self.attribute_value(kinds.get(key.lower(), "string"), value, name)
            except RowRefused as refused:
                errors.update(refused.errors)
        if errors:
            raise RowRefused(errors)
        for group in has_group:
            items = nested.get(group, {})
            body[group.wire] = [items[number] for number in sorted(items)]
        if self.attribute_prefix:
            body["CustomerAttributes"] = attributes
        return body

    @staticmethod
    def converted(kind: str, value, column: str):
        if kind == "bool":
            return cell_bool(value, column)
        if kind == "int":
            return cell_int(value, column)
        if kind == "amount":
            return cell_amount(value, column)
        return cell_text(value)

    def attribute_value(self, kind: str, value, column: str):
        if kind == "boolean":
            return cell_bool(value, column)
        if kind == "number":
            text = cell_text(value).strip()
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise RowRefused({column: ["Must be a number."]}) from None
            return int(number) if number == number.to_integral_value() else number
        return cell_text(value)

    def column_of(self, wire_name: str) -> str:
        """An API error's field as the column it came from: `Addresses[0].City` → `Address1.City`."""
        for group in self.groups:
            match = re.match(rf"^{group.wire}\[(\d+)\](?:\.(\w+))?$", wire_name)
            if match:
                field = f".{group.suffix_of(match.group(2))}" if match.group(2) else ""
                return f"{group.prefix}{int(match.group(1)) + 1}{field}"
        if wire_name.startswith("CustomerAttributes.") and self.attribute_prefix:
            return f"{self.attribute_prefix}.{wire_name.split('.', 1)[1]}"
        return wire_name

    def after_import(self, dataset, result, **kwargs):
        result.key_column = self.key

    def import_row(self, row, instance_loader, **kwargs):
        result = RowResult()
        result.line = kwargs.get("row_number", 0) + 1  # the file's line: the column names are line 1
        key_column = next((h for h in row if h is not None and cell_text(h).strip().lower() == self.key.lower()), None)
        result.key = cell_text(row[key_column]).strip() if key_column and not is_blank(row[key_column]) else ""
        result.changes, result.reasons = [], []
        if self.layout_refused:
            result.import_type = RowResult.IMPORT_TYPE_SKIP
            return result
        try:
            data = self.validated(self.body_of(row))
            before = self.representation(result.key)
            with transaction.atomic():  # a refused row leaves nothing of itself behind
                obj, created = self.upsert(data)
            after = self.representation(result.key)
        except RowRefused as refused:
            return self.refused(result, refused.errors)
        except APIException as exc:
            errors = getattr(exc, "errors", None) or flatten_errors(exc.detail)
            if isinstance(errors, list):
                errors = {"": errors}
            return self.refused(result, {self.column_of(name): messages_ for name, messages_ in errors.items()})
        result.instance, result.object_id, result.object_repr = obj, obj.pk, str(obj)
        if created:
            result.import_type = RowResult.IMPORT_TYPE_NEW
        else:
            result.changes = changes_between(before, after)
            result.import_type = RowResult.IMPORT_TYPE_UPDATE if result.changes else RowResult.IMPORT_TYPE_SKIP
        return result

    def refused(self, result: RowResult, errors: dict[str, list[str]]) -> RowResult:
        result.import_type = RowResult.IMPORT_TYPE_INVALID
        result.reasons = [f"{column}: {message}" if column else message
                          for column, messages_ in errors.items() for message in messages_]
        result.validation_error = ValidationError({column or "row": messages_ for column, messages_ in errors.items()})
        return result

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        raise NotImplementedError


def changes_between(before: dict | None, after: dict) -> list[str]:
    """`CompanyName: Acme → Acme Ltd.`, `Addresses: 1 → 2` for each field that changed."""
    if before is None:
        return []
    out = []
    for name in after:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if isinstance(new, list) or isinstance(old, list):
            out.append(f"{name}: {len(old or [])} → {len(new or [])}" if len(old or []) != len(new or [])
                       else f"{name}: changed")
        elif isinstance(new, dict):
            out.append(f"{name}: changed")
        else:
            out.append(f"{name}: {_shown(old)} → {_shown(new)}")
    return out


def _shown(value) -> str:
    return "(empty)" if value in (None, "") else str(value)


def without(data: dict, *keys: str) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


# ---------------------------------------------------------------- the admin


class SpreadsheetImportForm(ImportForm):
    """The upload: a CSV or XLSX file of at most MAX_BYTES, and for a superuser the organization."""

    def __init__(self, formats, resources_, **kwargs):
        organizations = kwargs.pop("organizations", None)
        super().__init__(formats, resources_, **kwargs)
        if organizations is not None:
            self.fields["organization"] = forms.ModelChoiceField(queryset=organizations, label="Organization")

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(f"The file is {upload.size:,} bytes; at most {MAX_BYTES:,} are imported at once.")
        return upload


class SpreadsheetConfirmForm(ConfirmImportForm):
    organization = forms.UUIDField(widget=forms.HiddenInput(), required=False)


class ListExportMixin(ExportMixin):
    """Every list exports to CSV what its page lists: its columns, with its filters and search, in
    the staff user's scope (the change list's own queryset). No secret is ever a list column."""

    formats = [CSV]
    skip_export_form = True
    export_columns_exclude = ("action_checkbox",)
    import_export_change_list_template = "spreadsheets/change_list_export.html"

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_export_filename(self, request, queryset, file_format):
        return f"{self.model._meta.verbose_name_plural.replace(' ', '-')}-{datetime.date.today().isoformat()}.csv"

    def get_data_for_export(self, request, queryset, **kwargs):
        names = [n for n in self.get_list_display(request)
                 if n not in self.export_columns_exclude and not (isinstance(n, str) and SECRET.search(n))]
        dataset = tablib.Dataset(headers=[strip_tags(str(label_for_field(n, self.model, self))) for n in names])
        getters = [self.column_getter(name) for name in names]
        for obj in queryset.iterator(chunk_size=2000):
            dataset.append([guarded(get(obj)) for get in getters])
        return dataset

    def column_getter(self, name):
        """How a column's cell is read: a plain field straight from its attribute (most cells of a big
        export), a choice by its label, a related object by its name, anything else as the list shows it."""
        try:
            field = self.model._meta.get_field(name) if isinstance(name, str) else None
        except FieldDoesNotExist:
            field = None
        if field is None or not field.concrete:
            return lambda obj: self.exported_value(obj, name)
        if field.choices:
            return lambda obj: getattr(obj, f"get_{field.name}_display")()
        if field.is_relation:
            return lambda obj: "" if getattr(obj, field.name) is None else str(getattr(obj, field.name))
        return lambda obj: plain(getattr(obj, field.attname))

    def exported_value(self, obj, name):
        field, attr, value = lookup_field(name, obj, self)
        if isinstance(value, (bool, int, Decimal, datetime.date)) or value is None:
            return plain(value)
        shown = display_for_field(value, field, "") if field is not None else display_for_value(value, "")
        return strip_tags(str(shown)).strip()


def plain(value):
    """A cell as a spreadsheet reads it: numbers and booleans as they are, times in the organization's
    zone (as the page shows them) in ISO 8601, dates in ISO 8601, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, (datetime.date, bool, int, Decimal)):
        return value.isoformat() if isinstance(value, datetime.date) else value
    return str(value)


def chunks(iterable, size: int):
    """Lists of `size` items (the last one shorter)."""
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class SpreadsheetAdminMixin(ImportExportMixin):
    """Import (through the resource's service, with its preview) and export in the import layout."""

    formats = [CSV, XLSX]
    import_export_change_list_template = "spreadsheets/change_list_import_export.html"
    import_template_name = "spreadsheets/import.html"
    import_form_class = SpreadsheetImportForm
    confirm_form_class = SpreadsheetConfirmForm
    tmp_storage_class = CacheStorage  # a random key; a form cannot name a file on the server
    skip_export_form = True
    import_help = ""  # the layout, shown on the import page

    def get_export_formats(self):
        return [CSV]

    def get_export_filename(self, request, queryset, file_format):
        return f"{self.model._meta.verbose_name_plural.replace(' ', '-')}-{datetime.date.today().isoformat()}.csv"

    def has_import_permission(self, request):
        return self.has_change_permission(request)

    def get_import_form_kwargs(self, request):
        kwargs = super().get_import_form_kwargs(request)
        if request.user.is_superuser:
            kwargs["organizations"] = Organization.objects.order_by("name")
        return kwargs

    def blank_import_form(self, request):
        kwargs = {"organizations": Organization.objects.order_by("name")} if request.user.is_superuser else {}
        return self.get_import_form_class(request)(
            self.get_import_formats(), self.get_import_resource_classes(request), **kwargs)

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None and import_form.cleaned_data.get("organization"):
            initial["organization"] = import_form.cleaned_data["organization"].pk
        return initial

    def organization_for(self, request, form) -> Organization | None:
        principal = principal_of(request.user)
        if principal is None:
            return None
        if not principal.all_organizations:
            return Organization.objects.get(pk=principal.organization_id)
        chosen = form.cleaned_data.get("organization") if form is not None and form.is_bound else None
        if isinstance(chosen, Organization):
            return chosen
        return Organization.objects.filter(pk=chosen).first() if chosen else None

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        return {"organization": self.organization_for(request, form), "actor": principal_of(request.user)}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"organization": None, "actor": principal_of(request.user)}

    def get_data_for_export(self, request, queryset, **kwargs):
        return self.get_export_resource_classes(request)[0](**self.get_export_resource_kwargs(request)).export(queryset)

    def get_import_context_data(self, **kwargs):
        return {"import_help": self.import_help, "max_rows": MAX_ROWS, "max_bytes": MAX_BYTES}

    def add_data_read_fail_error_to_form(self, form, e):
        fmt = dict(form.fields["format"].choices).get(form.data.get("format"), "the chosen format")
        form.add_error("import_file", f"This file could not be read as {fmt}: is it a {fmt} spreadsheet "
                                      f"with the column names on its first line? ({type(e).__name__})")

    def process_dataset(self, dataset, form, request, **kwargs):
        """The confirmation: all or nothing, a refused row rolls every row back."""
        return super().process_dataset(dataset, form, request, rollback_on_validation_errors=True, **kwargs)

    def process_import(self, request, **kwargs):
        try:
            return super().process_import(request, **kwargs)
        except (TypeError, ValueError, KeyError) as exc:  # the preview's file is gone (expired) or unreadable
            self.message_user(request, f"The previewed file is no longer available ({type(exc).__name__}): "
                                       "upload it again.", messages.ERROR)
            return TemplateResponse(request, [self.import_template_name], {
                **self.admin_site.each_context(request), **self.get_import_context_data(),
                "title": "Import", "opts": self.model._meta, "form": self.blank_import_form(request),
            })

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            self.message_user(request, "Nothing was imported: a row is refused now (the data changed since the "
                                       "preview?). Correct the file and upload it again.", messages.ERROR)
            return TemplateResponse(request, [self.import_template_name], {
                **self.admin_site.each_context(request), **self.get_import_context_data(),
                "title": "Import", "opts": self.model._meta, "result": result,
                "form": self.blank_import_form(request),
            })
        return super().process_result(result, request)

    def add_success_message(self, result, request):
        totals = result.totals
        self.message_user(request, (
            f"Imported {len(result.rows)} rows: {totals[RowResult.IMPORT_TYPE_NEW]} new, "
            f"{totals[RowResult.IMPORT_TYPE_UPDATE]} changed, {totals[RowResult.IMPORT_TYPE_SKIP]} unchanged."
        ), messages.SUCCESS)
