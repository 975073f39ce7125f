"""A sales rep's page in the admin, with its commission plans and latest statements (§9). It lives
here because commissions build on reps, not the other way round."""
from django.contrib import admin

from commissions.models import CommissionPlan, CommissionStatement
from commissions.plans.admin import plan_window
from nymble.admin_display import LATEST, link, list_link, money, percent, record_table
from salesreps.admin import OrganizationSalesRepAdmin
from salesreps.models import OrganizationSalesRep


class SalesRepWithCommissionsAdmin(OrganizationSalesRepAdmin):
    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if obj is None else [*fields, "plans", "latest_statements"]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return readonly if obj is None else (*readonly, "plans", "latest_statements")

    @admin.display(description="commission plans")
    def plans(self, rep):
        plans = CommissionPlan.objects.filter(sales_rep=rep).select_related("organization").order_by("-active", "name")
        currency = rep.organization.currency_code
        rows = [(link(plan, plan.name), "active" if plan.active else "inactive", percent(plan.default_rate),
                 money(plan.quota, currency) if plan.quota else "-",
                 plan_window(plan)) for plan in plans]
        return record_table(("plan", "", "default rate", "quota", "effective"), rows, total=len(rows),
                            everything=list_link(CommissionPlan, "the plans list", sales_rep=rep.pk))

    @admin.display(description="statements")
    def latest_statements(self, rep):
        statements = CommissionStatement.objects.filter(sales_rep=rep).order_by("-period_start", "-created_at")
        rows = [(link(statement, f"{statement.period_start} – {statement.period_end}"), statement.get_status_display(),
                 money(statement.sales_total, statement.currency_code), money(statement.total, statement.currency_code))
                for statement in statements[:LATEST]]
        return record_table(("period", "status", "sales", "commission"), rows, total=statements.count(),
                            everything=list_link(CommissionStatement, "all its statements", sales_rep=rep.pk))


admin.site.unregister(OrganizationSalesRep)
admin.site.register(OrganizationSalesRep, SalesRepWithCommissionsAdmin)
