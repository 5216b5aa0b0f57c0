from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken

from accounts.tasks import purge_expired_tokens

pytestmark = pytest.mark.django_db


def test_purge_removes_only_expired_tokens(user):
    expired, _ = AuthToken.objects.create(user=user, expiry=timedelta(days=1))
    live, _ = AuthToken.objects.create(user=user, expiry=timedelta(days=1))
    AuthToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    deleted = purge_expired_tokens.delay().get()

    assert deleted == 1
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [live.pk]
