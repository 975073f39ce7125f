"""The commissions admin: plans (with their rules, overrides and tiers), statements and the schedule."""
from commissions.plans import admin as plans_admin  # noqa: F401  (registers the plan admin)
from commissions.statements import admin as statements_admin  # noqa: F401  (registers the statement admin)
from commissions.statements import schedule_admin  # noqa: F401  (registers the schedule admin)
from commissions.statements import dispute_admin  # noqa: F401,E402  (registers the dispute admin)
from commissions import rep_admin  # noqa: F401,E402  (a rep's page with its plans and statements)
