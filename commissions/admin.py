"""The commissions admin: plans (with their rules, overrides and tiers) and statements."""
from commissions.plans import admin as plans_admin  # noqa: F401  (registers the plan admin)
from commissions.statements import admin as statements_admin  # noqa: F401  (registers the statement admin)
