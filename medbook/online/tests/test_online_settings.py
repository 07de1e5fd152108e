"""B-13: the institution turns online booking on (with its privacy notice) and ticks the Online column."""

import pytest
from django.urls import reverse

from medbook.audit.models import AuditEntry
from medbook.institutions.tests.test_settings import URL, _form
from medbook.online.tests.helpers import PRIVACY
from medbook.scheduling.models import TrafficChannel

pytestmark = pytest.mark.django_db


def test_b13_online_booking_is_turned_on_only_with_a_privacy_notice(client, cast):
    client.force_login(cast.alice)
    page = client.get(URL).content.decode()
    assert f"/book/{cast.institution_a.pk}/" in page  # the stable address to link to from the clinic's site
    refused = client.post(URL, _form(cast.institution_a, online_booking="on"))
    assert refused.status_code == 422
    assert "Write the privacy notice" in refused.content.decode()
    client.post(URL, _form(cast.institution_a, online_booking="on", privacy_notice=PRIVACY))
    cast.institution_a.refresh_from_db()
    assert cast.institution_a.online_booking and cast.institution_a.privacy_notice == PRIVACY
    assert client.get(reverse("online:institution", args=[cast.institution_a.pk])).status_code == 200


def test_b13_the_admin_ticks_a_service_in_the_online_column(client, cast):
    client.force_login(cast.alice)
    matrix = client.get(reverse("partners:channel-list")).content.decode()
    assert f'data-testid="online-cell-{cast.service_a.pk}"' in matrix
    url = reverse("partners:online-cell", args=[cast.service_a.pk])
    answer = client.post(url, {"enabled": "1"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and "checked" in answer.content.decode()
    online = TrafficChannel.objects.get(institution=cast.institution_a, code="online")
    assert list(online.services.all()) == [cast.service_a]
    assert AuditEntry.objects.filter(action="channel.service_set").exists()
    client.post(url, {"enabled": "0"})
    assert not online.services.exists()


def test_b13_another_institutions_service_is_404_in_the_online_column(client, cast):
    client.force_login(cast.alice)
    url = reverse("partners:online-cell", args=[cast.service_b.pk])
    assert client.post(url, {"enabled": "1"}).status_code == 404
    assert not TrafficChannel.objects.get(institution=cast.institution_b, code="online").services.exists()
    client.force_login(cast.bob)  # reception does not administer
    assert (
        client.post(reverse("partners:online-cell", args=[cast.service_a.pk]), {"enabled": "1"}).status_code
        == 403
    )
