"""Webhooks delivered to a receiver started here on 127.0.0.1 that checks
their signatures with the standard library: events from API uploads,
retries after a 500 with back-off, disabling after repeated failures."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from tests.api_common import ApiCase, api_key
from tests.webhook_receiver import Receiver, verify


class TestWebhooks(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        cls.own = Company.create({"name": "Webhook Oma Oy"})
        cls.other = Company.create({"name": "Webhook Muu Oy"})
        cls.user = cls.new_user("hook-user", cls.own)
        cls.manager = cls.new_user("hook-manager", cls.own, groups="heeros_link_base.group_link_manager")
        cls.key = api_key(cls.user)
        cls.Delivery = cls.env["heeros.link.webhook.delivery"]
        # the receivers of these tests listen on 127.0.0.1: allowed as an administrator would
        cls.env["ir.config_parameter"].sudo().set_param("heeros_link.webhook_private_addresses", "1")

    def subscribe(self, url, events=("message.processed", "message.error"), company=None, **vals):
        Event = self.env["heeros.link.webhook.event"]
        return self.env["heeros.link.webhook"].create(
            {
                "name": "Receiver",
                "url": url,
                "company_id": (company or self.own).id,
                "event_ids": [(6, 0, Event.search([("code", "in", list(events))]).ids)],
                **vals,
            }
        )

    def deliver_due(self):
        """Run the delivery cron as the scheduler does."""
        self.Delivery._cron_deliver()
        self.env.invalidate_all()

    def make_due(self, deliveries):
        """As if the back-off delay had passed."""
        deliveries.write({"next_attempt": fields.Datetime.now() - timedelta(seconds=1)})

    def upload(self, data, name):
        handler = lambda message: self.env["res.partner"].sudo().create({"name": message.file_name})  # noqa: E731
        with self.note_types(handler):
            return self.api(
                "POST",
                "/messages",
                key=self.key,
                params={"direction": "in", "company": self.own.id, "file_name": name},
                data=data,
                expect=201,
            ).json()

    def test_processed_and_error_events_are_signed_and_delivered_after_the_transaction(self):
        with Receiver() as receiver:
            webhook = self.subscribe(receiver.url)
            other = self.subscribe(receiver.url, company=self.other)
            receiver.secret = webhook.secret
            processed = self.upload(b"NOTE fine", "fine.txt")
            failed = self.upload(b"garbage", "bad.bin")
            self.assertEqual(failed["state"], "error")
            # nothing is posted inside the request: deliveries wait for the cron
            self.assertEqual(receiver.received, [])
            deliveries = self.Delivery.search([("webhook_id", "=", webhook.id)], order="id")
            self.assertEqual(deliveries.mapped("state"), ["pending", "pending"])
            self.assertFalse(self.Delivery.search([("webhook_id", "=", other.id)]))
            self.deliver_due()
        self.assertEqual(len(receiver.received), 2)
        self.assertTrue(all(r["verified"] for r in receiver.received))
        by_event = {r["body"]["event"]: r for r in receiver.received}
        self.assertEqual(by_event["message.processed"]["body"]["data"]["message"]["id"], processed["id"])
        self.assertEqual(by_event["message.error"]["body"]["data"]["message"]["state"], "error")
        first = by_event["message.processed"]
        self.assertEqual(first["headers"]["X-Heeros-Link-Event"], "message.processed")
        self.assertEqual(first["headers"]["X-Heeros-Link-Delivery"], first["body"]["id"])
        self.assertEqual(first["body"]["company_id"], self.own.id)
        self.assertEqual(deliveries.mapped("state"), ["delivered", "delivered"])
        self.assertEqual(deliveries.mapped("response_code"), [200, 200])
        self.assertEqual(webhook.last_success.date(), fields.Date.today())

    def test_a_wrong_secret_does_not_verify(self):
        with Receiver(secret="not-the-secret") as receiver:
            webhook = self.subscribe(receiver.url, events=("ping",))
            webhook.action_send_test()
        self.assertFalse(receiver.received[0]["verified"])
        delivery = webhook.delivery_ids
        self.assertEqual((delivery.state, delivery.response_code), ("pending", 401))
        # the receiver's check itself: a body changed after signing fails
        headers = receiver.received[0]["headers"]
        self.assertFalse(verify(webhook.secret, headers, b'{"changed":true}'))

    def test_retried_after_500_with_back_off(self):
        with Receiver() as receiver:
            webhook = self.subscribe(receiver.url)
            receiver.secret = webhook.secret
            receiver.statuses = [500, 503]
            self.upload(b"NOTE retry", "retry.txt")
            delivery = self.Delivery.search([("webhook_id", "=", webhook.id)])
            self.deliver_due()
            self.assertEqual((delivery.state, delivery.attempts, delivery.response_code), ("pending", 1, 500))
            first_delay = delivery.next_attempt - delivery.last_attempt
            self.assertGreater(delivery.next_attempt, fields.Datetime.now())
            self.deliver_due()  # not due yet: nothing is posted
            self.assertEqual(len(receiver.received), 1)
            self.make_due(delivery)
            self.deliver_due()
            self.assertEqual((delivery.attempts, delivery.response_code), (2, 503))
            self.assertGreater(delivery.next_attempt - delivery.last_attempt, first_delay)
            self.make_due(delivery)
            self.deliver_due()
        self.assertEqual((delivery.state, delivery.attempts, delivery.response_code), ("delivered", 3, 200))
        self.assertEqual(len({r["body"]["id"] for r in receiver.received}), 1, "a retry is the same delivery")
        self.assertEqual(webhook.failure_count, 0)

    def test_disabled_after_repeated_failures_with_an_activity(self):
        with Receiver() as receiver:
            webhook = self.subscribe(receiver.url, max_failures=3, user_id=self.manager.id)
            receiver.secret = webhook.secret
            receiver.statuses = [500] * 10
            self.upload(b"NOTE a", "a.txt")
            deliveries = self.Delivery.search([("webhook_id", "=", webhook.id)])
            for _attempt in range(3):
                self.make_due(deliveries)
                self.deliver_due()
            self.assertFalse(webhook.active)
            self.assertEqual(webhook.failure_count, 3)
            activity = webhook.activity_ids
            self.assertEqual(activity.user_id, self.manager)
            self.assertIn("disabled", activity.summary)
            # a disabled webhook gets no new deliveries and sends none
            self.upload(b"NOTE b", "b.txt")
            self.assertEqual(self.Delivery.search_count([("webhook_id", "=", webhook.id)]), 1)
            self.make_due(deliveries)
            self.deliver_due()
            self.assertEqual(len(receiver.received), 3)
            # activated again, the waiting delivery goes out
            receiver.statuses = []
            webhook.active = True
            self.assertEqual(webhook.failure_count, 0)
            self.make_due(deliveries)
            self.deliver_due()
        self.assertEqual(deliveries.state, "delivered")

    def test_a_link_user_cannot_read_webhooks_or_their_secret(self):
        webhook = self.subscribe("https://example.com/hook")
        with self.assertRaises(AccessError):
            webhook.with_user(self.user).read(["secret"])
        with self.assertRaises(AccessError):
            webhook.with_user(self.user).read(["url"])
        self.assertTrue(webhook.with_user(self.manager).read(["secret"])[0]["secret"])
        other = self.subscribe("https://example.com/hook", company=self.other)
        self.assertFalse(
            self.env["heeros.link.webhook"].with_user(self.manager).search([("id", "=", other.id)]),
            "a manager sees only his companies' webhooks",
        )

    def test_local_and_private_addresses_are_refused_unless_an_administrator_allows_them(self):
        Param = self.env["ir.config_parameter"].sudo()
        Param.set_param("heeros_link.webhook_private_addresses", "")
        as_manager = self.env["heeros.link.webhook"].with_user(self.manager)
        for url in (
            "http://127.0.0.1:8069/hook",
            "http://localhost/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/hook",
            "http://[::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://0.0.0.0/hook",
        ):
            with self.subTest(url=url), self.assertRaises(ValidationError) as caught:
                as_manager.create({"name": "Inside", "url": url, "company_id": self.own.id})
            self.assertIn("local or private address", str(caught.exception))
        # a public address is taken
        public = as_manager.create({"name": "Outside", "url": "https://93.184.215.14/hook", "company_id": self.own.id})
        self.assertTrue(public)
        # allowed by an administrator, the receiver on this machine gets its events...
        Param.set_param("heeros_link.webhook_private_addresses", "1")
        with Receiver() as receiver:
            webhook = self.subscribe(receiver.url, events=("ping",))
            receiver.secret = webhook.secret
            # ...and once the permission is taken back, a delivery is not posted there any more
            Param.set_param("heeros_link.webhook_private_addresses", "")
            webhook.action_send_test()
        self.assertEqual(receiver.received, [])
        delivery = webhook.delivery_ids
        self.assertEqual((delivery.state, delivery.response_code), ("pending", 0))
        self.assertIn("local or private address", delivery.error)

    def test_a_link_manager_cannot_allow_private_addresses(self):
        Param = self.env["ir.config_parameter"].with_user(self.manager)
        with self.assertRaises(AccessError):
            Param.set_param("heeros_link.webhook_private_addresses", "1")
