import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_issue


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
        client.user = user
    return client


@pytest.fixture
def anonymous():
    return APIClient()
