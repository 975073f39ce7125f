import pytest
from django.core.management import call_command

from commissions.models import CommissionStatement
from orders.models import Invoice

pytestmark = pytest.mark.django_db


def test_demo_seed_builds_a_working_organization_once(capsys, client):
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent: prints the logins again, creates nothing
    out = capsys.readouterr().out
    assert "admin@demo.nymble.test / demo-pass-123" in out
    assert Invoice.objects.filter(status="Paid").count() == 3
    statement = CommissionStatement.objects.get()
    assert statement.status == "Draft" and statement.total > 0
    token = client.post("/api/auth/token", {"Email": "jane.smith@acme.example", "Password": "demo-pass-123"},
                        content_type="application/json")
    assert token.status_code == 200
