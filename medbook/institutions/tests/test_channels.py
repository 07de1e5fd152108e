"""Traffic Channels: the institution's built-in channels head the partner module's matrix (B-9, P-9)."""

import pytest
from django.urls import NoReverseMatch, reverse

from medbook.scheduling.models import TrafficChannel

LIST = reverse("partners:channel-list")


def test_b9_admin_sees_own_channels(cast, login):
    TrafficChannel.objects.create(institution=cast.institution_b, code="b-only", name="B Billboard")
    response = login(cast.alice).get(LIST)
    content = response.content.decode()
    assert "<h1>Traffic Channels</h1>" in content
    for name, code in [("Online", "online"), ("Phone", "phone"), ("Reception", "reception")]:
        assert f'<th scope="col" class="builtin">{name}<br><span class="muted">{code}</span></th>' in content
    assert "B Billboard" not in content


def test_b9_inactive_channel_shows_as_not_active(cast, login):
    TrafficChannel.objects.filter(institution=cast.institution_a, code="phone").update(is_active=False)
    content = login(cast.alice).get(LIST).content.decode()
    # Phone and reception: a state, not a choice (the Online column is ticked per service, issue 22).
    assert content.count('title="Not active"') == 1 and content.count('title="Enabled"') == 1


def test_b9_builtin_channels_cannot_be_added_or_edited_here(cast, login):
    with pytest.raises(NoReverseMatch):
        reverse("institutions:channel-create")
    content = login(cast.alice).get(LIST).content.decode()
    assert "/channels/add/" not in content
    assert content.count('class="builtin"><input type="checkbox" disabled') == 2  # the Online column ticks
