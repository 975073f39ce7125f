"""Regressions found looking at the admin as staff: pages that were a bare 403 or an unstyled 404."""
import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def styled(response, status: int) -> str:
    assert response.status_code == status
    page = response.content.decode()
    assert '<link rel="stylesheet" href="/static/admin/css/base.css">' in page
    assert "Nymble back office" in page and "Back to the back office" in page
    return page


@pytest.mark.parametrize("path", ["/admin/django_celery_beat/", "/admin/django_celery_beat/periodictask/",
                                  "/admin/django_celery_beat/crontabschedule/add/"])
def test_the_beat_tables_are_for_superusers_and_staff_are_told_where_their_schedule_is(staff_client, path):
    page = styled(staff_client.get(path), 403)
    assert "Statement schedules" in page


def test_a_superuser_still_has_the_beat_tables(client, db):
    root = get_user_model().objects.create_superuser("root@nymble.test", "root-pass-42")
    client.force_login(root)
    assert client.get("/admin/django_celery_beat/").status_code == 200
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 200


def test_staff_see_how_a_password_is_set_instead_of_a_reset_button_that_refuses(staff_client, tenant):
    user = tenant.rep.membership.user
    page = staff_client.get(f"/admin/nymble/user/{user.pk}/change/").content.decode()
    assert "Reset password" not in page and "../password/" not in page
    assert "belongs to its person" in page
    refused = styled(staff_client.get(f"/admin/nymble/user/{user.pk}/password/"), 403)
    assert "belongs to its person" in refused


def test_a_missing_admin_page_is_a_styled_404_and_the_api_keeps_its_problem_documents(staff_client, client):
    styled(staff_client.get("/admin/no-such-page/"), 404)
    styled(client.get("/no-such-page/"), 404)
    api = client.get("/api/no-such-route")
    assert api.status_code == 404 and api["Content-Type"] == "application/problem+json"
