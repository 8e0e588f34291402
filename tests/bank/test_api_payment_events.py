"""The bank's status report on a payment batch announced to webhooks, with
the state of every payment; a report that changes nothing announces nothing."""

import json

from odoo import Command

from .test_payment_feedback import FeedbackCase, sample


class TestPaymentFeedbackEvent(FeedbackCase):
    def test_feedback_is_announced_once_with_every_payment(self):
        event = self.env.ref("heeros_link_bank.webhook_event_payment_batch_feedback")
        webhook = self.env["heeros.link.webhook"].create(
            {
                "name": "Purchase invoices",
                "url": "https://purchase.example/hook",
                "company_id": self.company_a.id,
                "event_ids": [Command.set(event.ids)],
            }
        )
        other = self.env["heeros.link.webhook"].create(
            {
                "name": "Other company",
                "url": "https://other.example/hook",
                "company_id": self.company_b.id,
                "event_ids": [Command.set(event.ids)],
            }
        )
        batch, lines = self.sent_batch("20140102-0000001", [("20110102-123456-01", [None])])
        message = self.feed(sample("corporatejs_pain002_3.xml"))
        self.assertEqual(message.state, "processed", message.error)
        delivery = webhook.delivery_ids
        self.assertEqual(delivery.event, "payment_batch.feedback")
        data = json.loads(delivery.body)["data"]["batch"]
        self.assertEqual((data["id"], data["state"], data["feedback_state"]), (batch.id, "accepted", "ACCP"))
        self.assertEqual(
            [(p["id"], p["state"], p["status_code"]) for p in data["payments"]], [(lines.id, "accepted", "ACCP")]
        )
        self.assertFalse(other.delivery_ids)
        # the same report again changes nothing: nothing new is announced
        self.feed(sample("corporatejs_pain002_3.xml"), name="again.xml")
        self.assertEqual(len(webhook.delivery_ids), 1)
