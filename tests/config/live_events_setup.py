"""Run by test_live_events_across_processes in its own process, on the embedded defaults:
makes a musician and a customer with an order in progress, and prints their tokens as JSON."""

import json

import django

django.setup()

from accounts.services import api_token_issue  # noqa: E402
from orders.models import OrderStatus  # noqa: E402
from tests.factories import MusicianFactory, UserFactory  # noqa: E402
from tests.orders.factories import OrderFactory  # noqa: E402

order = OrderFactory(
    status=OrderStatus.IN_PROGRESS, customer=UserFactory(), musician=MusicianFactory()
)
print(
    json.dumps(
        {
            "order": str(order.pk),
            "musician_token": api_token_issue(user=order.musician),
            "customer_token": api_token_issue(user=order.customer),
        }
    )
)
