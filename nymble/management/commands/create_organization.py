from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import APIException

from nymble.services import organization_create


class Command(BaseCommand):
    help = "Creates an organization and its first admin; prints the OrganizationId alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--code", required=True, help="OrgCode, the short code used at login")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)
        parser.add_argument("--time-zone", default="UTC")
        parser.add_argument("--currency", default="USD")

    def handle(self, *args, **options):
        try:
            organization = organization_create(
                name=options["name"],
                org_code=options["code"],
                admin_email=options["admin_email"],
                admin_password=options["admin_password"],
                time_zone=options["time_zone"],
                currency_code=options["currency"],
            )
        except APIException as exc:
            raise CommandError(getattr(exc, "errors", None) or exc.detail) from exc
        except Exception as exc:  # model validation (time zone, currency)
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created {organization.name} ({organization.org_code}) with admin {options['admin_email']}")
        self.stdout.write(str(organization.id))
