"""The organization's webhooks in the admin (§9, §12): add one (its secret shown once), change it,
read its deliveries and redeliver them — every write through webhooks.services."""
from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from nymble.admin_base import ScopedAdmin, ScopedRelatedFilter
from nymble.models import Organization
from webhooks import services
from webhooks.addresses import url_refusal
from webhooks.models import EVENT_TYPES, EVERY_EVENT, WebhookDelivery, WebhookEndpoint

RECENT = 20


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=[(EVERY_EVENT, "Every event (*)"), *((e, e) for e in EVENT_TYPES)],
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "events", "description", "active")

    def clean_url(self):
        url = self.cleaned_data["url"]
        if refusal := url_refusal(url):
            raise forms.ValidationError(refusal)
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ScopedAdmin):
    form = WebhookForm
    list_display = ("url", "event_list", "active", "failing_since", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "description")
    readonly_fields = ("failing_since", "recent_deliveries")

    @admin.display(description="events")
    def event_list(self, obj):
        return ", ".join(obj.events)

    def get_fields(self, request, obj=None):
        if obj is not None:
            return ["url", "events", "description", "active", "failing_since", "recent_deliveries"]
        return (["organization"] if request.user.is_superuser else []) + ["url", "events", "description", "active"]

    @admin.display(description="latest deliveries")
    def recent_deliveries(self, obj):
        deliveries = obj.deliveries.order_by("-created_at")[:RECENT]
        rows = format_html_join("", "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                                    "<td>{}</td></tr>", (
            (reverse("admin:webhooks_webhookdelivery_change", args=[d.pk]), localtime(d.created_at).strftime(
                "%Y-%m-%d %H:%M:%S"), d.event_type, d.status, d.attempts, d.response_code or "—", d.error or "")
            for d in deliveries))
        every = reverse("admin:webhooks_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html("<table><tr><th>when</th><th>event</th><th>status</th><th>attempts</th><th>answer</th>"
                           "<th>error</th></tr>{}</table><p><a href=\"{}\">Every delivery (to redeliver)</a></p>",
                           rows, every)

    def has_delete_permission(self, request, obj=None):
        return self._in_scope(request)  # a webhook is deleted with its log; the audit trail keeps that it was

    def _organization(self, request, form):
        if request.user.is_superuser:
            return form.cleaned_data["organization"]
        return Organization.objects.get(pk=self.principal(request).organization_id)

    def save_model(self, request, obj, form, change):
        """Through the services; the form has checked what they check, so they do not refuse here."""
        data = {name: form.cleaned_data[name] for name in ("url", "events", "description", "active")}
        if change:
            services.endpoint_update(endpoint=obj, **{k: v for k, v in data.items() if k in form.changed_data})
            return
        created = services.endpoint_create(organization=self._organization(request, form), **data)
        obj.pk, obj.organization_id, obj.secret = created.pk, created.organization_id, created.secret
        obj._state.adding = False
        self.message_user(request, f"The signing secret of this webhook is {created.secret} — copy it now: it is "
                                   "not shown again.", messages.WARNING)

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_delete(endpoint=endpoint)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ScopedAdmin):
    organization_field = None
    list_display = ("created_at", "endpoint", "event_type", "status", "attempts", "response_code", "next_attempt_at")
    list_select_related = ("endpoint",)
    list_filter = ("status", "event_type", ("endpoint", ScopedRelatedFilter))
    fields = ("endpoint", "event_id", "event_type", "status", "attempts", "response_code", "error", "next_attempt_at",
              "delivered_at", "created_at", "body")
    readonly_fields = fields
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Redeliver the selected deliveries")
    def redeliver(self, request, queryset):
        sent = 0
        for delivery in queryset:
            if self.run_service(request, services.delivery_redeliver, delivery=delivery) is not None:
                sent += 1
        if sent:
            self.message_user(request, f"{sent} delivery(ies) sent again.", messages.SUCCESS)
