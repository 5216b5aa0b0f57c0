"""Billing's HTTP API, one module per job. Thin: validate, call a service, serialize.

- ``plans``: the plans and their prices;
- ``subscriptions``: subscribing, my subscription, cancel, resume, the billing portal;
- ``seats``: members and invitations of Duo and Family plans;
- ``students``: the student price and its review by staff;
- ``payments``: checkouts, payments, refunds;
- ``payouts``: what the platform owes a musician and what it paid out;
- ``webhooks``: the providers' endpoint and the staff's tools for stored events.

``serializers`` holds the representations several jobs share; ``base`` turns billing's
service errors (each carries its HTTP status and code) into ``{"detail", "code"}`` answers.
"""
