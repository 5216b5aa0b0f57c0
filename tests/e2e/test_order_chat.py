"""The order chat as its two people use it, each in their own browser: the customer and the
musician of an order in progress. Typing shows on the other side, messages arrive live, the
unread badge counts them, "Seen" marks what the other read, and a musician whose connection
drops gets everything sent meanwhile after it comes back, once each and in order.

pytest-django's live server is WSGI and cannot carry the chat's websocket (the `page` fixture
answers every socket itself, silently). So, as in test_room_sync, the site runs under daphne
in its own process on the embedded defaults (a SQLite file and the embedded Redis server in a
temporary var/ folder), with the order made in that database by the factories. The two
browser contexts come from `second_session` (pointed at daphne), and their chat sockets are
let through to the real server.
"""

import json
import re
import sys
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tests.config.test_live_events_across_processes import run
from tests.e2e.daphne_site import daphne_env, daphne_serving
from tests.e2e.test_commission_journey import log_in, second_session

pytestmark = pytest.mark.e2e

CHAT_SOCKET = re.compile(r"/ws/orders/")

SETUP = """
import json
import django

django.setup()

from orders.models import OrderStatus
from tests.factories import MusicianFactory, UserFactory
from tests.orders.factories import OrderFactory

order = OrderFactory(
    status=OrderStatus.IN_PROGRESS,
    customer=UserFactory(display_name="Priya Customer"),
    musician=MusicianFactory(display_name="Meera Musician"),
)
print(json.dumps({
    "order": str(order.pk),
    "customer": order.customer.email,
    "musician": order.musician.email,
}))
"""


@pytest.fixture
def chat_server(tmp_path, _allow_async_unsafe):
    """daphne serving config.asgi (pages and sockets) on a free port, with an order in progress
    between a customer and a musician."""
    env = daphne_env(tmp_path)
    (tmp_path / "var").mkdir()
    run([sys.executable, "manage.py", "migrate", "--noinput"], env, timeout=300)
    data = json.loads(run([sys.executable, "-c", SETUP], env, timeout=120).stdout)
    with daphne_serving(env, tmp_path) as (url, log):
        yield SimpleNamespace(url=url, log=log, **data)


class Person:
    """One person's browser on the order page, with its chat socket let through to daphne and
    everything the console said as an error."""

    def __init__(self, browser, server, browser_log, email, people):
        self.context, self.page = second_session(browser, server, browser_log)
        people.append(self)
        self.console_errors: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        # Newer routes win: the chat's socket reaches the real server, unless this person's
        # connection is down (see `drop`).
        self.online = True
        self.sockets = []
        self.page.route_web_socket(CHAT_SOCKET, self._through)
        log_in(self.page, SimpleNamespace(email=email))
        self.page.goto(f"/orders/{server.order}/")
        self.chat = self.page.get_by_test_id("order-chat")
        self.messages = self.chat.locator("[data-message-id]")
        self.body = self.page.get_by_test_id("chat-body")
        expect(self.body).to_be_visible()
        self.wait_connected()

    def _through(self, route):
        if not self.online:
            route.close(code=1006, reason="offline")
            return
        self.sockets.append((route, route.connect_to_server()))

    def drop(self):
        """The connection goes down: the open socket closes on both ends and new ones fail
        until `restore`. (context.set_offline does not close a socket already open.)"""
        self.online = False
        for page_side, server_side in self.sockets:
            server_side.close()
            page_side.close(code=1006, reason="offline")
        self.sockets.clear()

    def restore(self):
        self.online = True

    def wait_connected(self):
        # "Connecting…" / "Reconnecting…" is cleared once the sync after the last id is done.
        expect(self.chat.locator("[data-chat-connection]")).to_have_text("", timeout=15_000)

    def send(self, text):
        self.body.fill(text)
        self.page.get_by_test_id("chat-send").click()
        expect(self.body).to_have_value("")

    def bodies(self):
        return self.messages.locator(".chat-body").all_inner_texts()

    def ids(self):
        found = self.messages.evaluate_all("nodes => nodes.map(n => n.dataset.messageId)")
        return [int(i) for i in found]


def test_customer_and_musician_chat_live(chat_server, browser, browser_log):
    people = []
    try:
        customer = Person(browser, chat_server, browser_log, chat_server.customer, people)
        musician = Person(browser, chat_server, browser_log, chat_server.musician, people)
        for person in people:
            expect(person.chat).to_contain_text("No messages yet")
            # Nothing unread yet: no badge (the panel renders it hidden, "0 new").
            expect(person.page.get_by_test_id("chat-unread")).to_be_hidden()

        # 1. The customer types: the musician reads who is typing.
        customer.body.press_sequentially("Hello Mee", delay=20)
        typing = musician.page.get_by_test_id("chat-typing")
        expect(typing).to_be_visible()
        expect(typing).to_have_text(re.compile(r"Priya Customer is typing"))

        # 2. The customer sends: the message reaches the musician without a reload, the typing
        # line goes, and the musician's badge counts it until read.
        customer.body.press_sequentially("ra, the chorus please", delay=10)
        customer.page.get_by_test_id("chat-send").click()
        expect(customer.body).to_have_value("")
        expect(musician.messages).to_have_count(1)
        expect(musician.messages.first).to_contain_text("Hello Meera, the chorus please")
        expect(musician.messages.first).to_contain_text("Priya Customer")
        expect(typing).to_be_hidden()
        # The customer's own copy is the server's echo (a real id), not a pending one.
        expect(customer.messages).to_have_count(1)
        expect(customer.chat.locator("[data-pending]")).to_have_count(0)
        assert customer.ids() == musician.ids()
        # The musician's page is in front, so it reads the message at once: the badge either
        # never showed or went back to hidden. Made visible once while the musician's tab is
        # hidden, below.
        expect(musician.page.get_by_test_id("chat-unread")).to_be_hidden()
        # ... and the customer reads "Seen" under the message the musician read.
        expect(customer.messages.first.locator("[data-chat-seen]")).to_be_visible()

        # 3. The musician replies: it reaches the customer live; once the customer's page has
        # it, the musician reads "Seen" under it.
        musician.send("Got it, Priya: chorus first.")
        expect(customer.messages).to_have_count(2)
        expect(customer.messages.nth(1)).to_contain_text("Got it, Priya: chorus first.")
        expect(customer.messages.nth(1)).to_contain_text("Meera Musician")
        expect(musician.messages).to_have_count(2)
        expect(musician.messages.nth(1).locator("[data-chat-seen]")).to_be_visible()
        # A message from the other side carries no "Seen" mark of one's own.
        expect(customer.messages.nth(1).locator("[data-chat-seen]")).to_have_count(0)

        # The unread badge: while the musician's tab is hidden, messages are not read and the
        # badge counts them; back in front, they are read and the badge goes.
        musician.page.evaluate(
            """() => {
                Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
                Object.defineProperty(document, "visibilityState",
                    {configurable: true, get: () => "hidden"});
                document.dispatchEvent(new Event("visibilitychange"));
            }"""
        )
        customer.send("Are you there?")
        unread = musician.page.get_by_test_id("chat-unread")
        expect(unread).to_be_visible()
        expect(unread).to_have_text("1 new")
        expect(customer.messages.nth(2).locator("[data-chat-seen]")).to_be_hidden()
        musician.page.evaluate(
            """() => {
                delete document.hidden;
                delete document.visibilityState;
                document.dispatchEvent(new Event("visibilitychange"));
            }"""
        )
        expect(unread).to_be_hidden()
        expect(customer.messages.nth(2).locator("[data-chat-seen]")).to_be_visible()

        # 4. The musician's connection drops; the customer sends three messages meanwhile.
        # When it comes back the page syncs after its last id: each arrives once, in order.
        musician.drop()
        expect(musician.chat.locator("[data-chat-connection]")).to_have_text(
            re.compile("Reconnecting|Connecting"), timeout=15_000
        )
        missed = ["First while you were away", "Second while you were away", "Third, last one"]
        for text in missed:
            customer.send(text)
        expect(customer.messages).to_have_count(6)
        expect(customer.chat.locator("[data-pending]")).to_have_count(0)
        assert musician.messages.count() == 3
        musician.restore()
        musician.wait_connected()
        expect(musician.messages).to_have_count(6, timeout=20_000)
        expected = [
            "Hello Meera, the chorus please",
            "Got it, Priya: chorus first.",
            "Are you there?",
            *missed,
        ]
        assert musician.bodies() == expected
        assert customer.bodies() == expected
        ids = musician.ids()
        assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
        assert ids == customer.ids()
        # Read after the reconnect: the customer's last message shows "Seen".
        expect(customer.messages.last.locator("[data-chat-seen]")).to_be_visible()

        # After the reconnect the socket is live again both ways.
        musician.send("Back online.")
        expect(customer.messages).to_have_count(7)
        expect(customer.messages.last).to_contain_text("Back online.")
        assert musician.messages.count() == 7

        # 5. No uncaught error on either page; the console said nothing as an error beyond the
        # browser's own note that the socket could not connect while the network was off.
        assert browser_log.errors == []
        assert customer.console_errors == [], customer.console_errors
        unexpected = [
            text
            for text in musician.console_errors
            if not re.search(r"WebSocket connection to .*/ws/orders/.* failed", text)
        ]
        assert unexpected == [], musician.console_errors
    finally:
        for person in people:
            person.context.close()
