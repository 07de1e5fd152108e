"""Traffic Channels: the institution's channels, read-only until the partner matrix arrives (B-9)."""

import pytest
from django.urls import NoReverseMatch, reverse

from medbook.scheduling.models import TrafficChannel

LIST = reverse("institutions:channel-list")


def test_b9_admin_sees_own_channels(cast, login):
    TrafficChannel.objects.create(institution=cast.institution_b, code="b-only", name="B Billboard")
    response = login(cast.alice).get(LIST)
    content = response.content.decode()
    assert "<h1>Traffic Channels</h1>" in content
    for name, code in [("Online", "online"), ("Phone", "phone"), ("Reception", "reception")]:
        assert f"<td>{name}</td>" in content and f"<td>{code}</td>" in content
    assert "B Billboard" not in content


def test_b9_inactive_channel_shows_as_not_active(cast, login):
    TrafficChannel.objects.filter(institution=cast.institution_a, code="phone").update(is_active=False)
    content = login(cast.alice).get(LIST).content.decode()
    assert content.count("<td>No</td>") == 1 and content.count("<td>Yes</td>") == 2


def test_b9_channels_cannot_be_added_here_yet(cast, login):
    with pytest.raises(NoReverseMatch):
        reverse("institutions:channel-create")
    assert b"/channels/add/" not in login(cast.alice).get(LIST).content
