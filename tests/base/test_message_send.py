"""Outbound messages: queue, send, retries with back-off, crash recovery, fetch."""

import os
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from odoo import fields
from odoo.addons.heeros_link_base.channels.local import LocalChannel
from odoo.exceptions import UserError

from .common import LinkCase


class TestSend(LinkCase):
    def queue(self, name="batch.xml", data=b"<pain/>", company=None):
        return self.Message._link_queue("test.out", name, data, company or self.bureau,
                                        connection=self.connection)

    def test_queue_and_send(self):
        partner = self.env["res.partner"].create({"name": "Source record"})
        message = self.Message._link_queue("test.out", "batch.xml", b"<pain/>", self.bureau,
                                           connection=self.connection, records=partner)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message._linked("res.partner", role="source"), partner)
        message._link_send()
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.attempts, 1)
        self.assertEqual((Path(self.tmp) / "outbox" / "batch.xml").read_bytes(), b"<pain/>")
        self.assertTrue(self.connection.last_send)
        message._link_set_feedback(True, "Bank accepted the batch")
        self.assertEqual(message.state, "accepted")

    def test_queue_without_connection_is_an_error_naming_the_company(self):
        lonely = self.env["res.company"].create({"name": "Yksinäinen Oy"})
        message = self.Message._link_queue("test.out", "x.xml", b"<x/>", lonely)
        self.assertEqual(message.state, "error")
        self.assertIn("Yksinäinen Oy", message.error)

    def test_shared_connection_serves_client_companies(self):
        message = self.Message._link_queue("test.out", "x.xml", b"<x/>", self.client_a)
        self.assertEqual(message.connection_id, self.connection)
        self.assertEqual(message.state, "queued")

    def test_failure_backs_off_then_gives_up(self):
        message = self.queue()
        now = fields.Datetime.now()
        with patch.object(LocalChannel, "upload", side_effect=__import__(
                "odoo.addons.heeros_link_base.channels", fromlist=["ChannelError"]).ChannelError("disk full")):
            message._link_send()
            self.assertEqual(message.state, "queued")
            self.assertEqual(message.attempts, 1)
            self.assertIn("disk full", message.error)
            first_delay = message.next_attempt - now
            self.assertGreaterEqual(first_delay, timedelta(minutes=4, seconds=50))
            self.assertLessEqual(first_delay, timedelta(minutes=6))
            # not due yet: the cron leaves it alone
            self.Message._cron_send()
            self.assertEqual(message.attempts, 1)
            message.next_attempt = now - timedelta(seconds=1)
            self.Message._cron_send()
            self.assertEqual(message.attempts, 2)
            second_delay = message.next_attempt - fields.Datetime.now()
            self.assertGreaterEqual(second_delay, timedelta(minutes=9, seconds=50), "delay doubles")
            message.next_attempt = now - timedelta(seconds=1)
            self.Message._cron_send()
        self.assertEqual(message.state, "error")
        self.assertEqual(message.attempts, 3)
        self.assertIn("after 3 attempt(s)", message.error)
        self.assertEqual(self.connection.health, "error")
        # after a fix, retry sends it
        message.action_retry()
        self.assertEqual(message.state, "sent")

    def test_configuration_error_is_not_retried(self):
        self.connection.local_root = False
        message = self.queue()
        message._link_send()
        self.assertEqual(message.state, "error")
        self.assertIn("no root folder", message.error)

    def test_crash_during_send_is_checked_not_resent(self):
        arrived = self.queue("arrived.xml")
        lost = self.queue("lost.xml")
        long_ago = fields.Datetime.now() - timedelta(hours=1)
        # the server stopped after 'sending' was committed: one upload had completed
        (arrived | lost).write({"state": "sending", "attempts": 1, "last_attempt": long_ago})
        outbox = Path(self.tmp) / "outbox"
        outbox.mkdir(exist_ok=True)
        (outbox / "arrived.xml").write_bytes(b"<pain/>")
        recent = self.queue("recent.xml")
        recent.write({"state": "sending", "last_attempt": fields.Datetime.now()})
        with patch.object(LocalChannel, "upload", wraps=None) as upload:
            self.Message._link_recover_sending()
            upload.assert_not_called()
        self.assertEqual(arrived.state, "sent")
        self.assertEqual(lost.state, "queued")
        self.assertEqual(recent.state, "sending", "a send that may still be running is left alone")
        lost._link_send()
        self.assertEqual(lost.state, "sent")
        self.assertEqual(sorted(os.listdir(outbox)), ["arrived.xml", "lost.xml"])

    def test_retry_refused_for_inbound_and_sent(self):
        message = self.queue()
        message._link_send()
        with self.assertRaises(UserError):
            message.action_retry()

    def test_download_action(self):
        message = self.queue()
        action = message.action_download()
        self.assertEqual(action["url"], f"/web/content/{message.attachment_id.id}?download=true")


class TestFetch(LinkCase):
    def test_fetch_stores_then_confirms_and_cron_respects_schedule(self):
        inbox = Path(self.tmp) / "inbox"
        inbox.mkdir(exist_ok=True)
        (inbox / "a.txt").write_bytes(b"NOTE a")
        self.connection.next_fetch = fields.Datetime.now() + timedelta(hours=1)
        self.env["heeros.link.connection"]._cron_fetch()
        self.assertTrue((inbox / "a.txt").exists(), "not due: nothing fetched")
        self.connection.next_fetch = False
        self.env["heeros.link.connection"]._cron_fetch()
        message = self.Message.search([("connection_id", "=", self.connection.id)])
        self.assertEqual(message.file_name, "a.txt")
        self.assertEqual(message.state, "received")
        self.assertFalse((inbox / "a.txt").exists())
        self.assertTrue((Path(self.tmp) / "archive" / "a.txt").exists())
        self.assertGreater(self.connection.next_fetch, fields.Datetime.now())

    def test_oversize_remote_file_stays_remote_and_is_reported_once(self):
        inbox = Path(self.tmp) / "inbox"
        inbox.mkdir(exist_ok=True)
        (inbox / "huge.xml").write_bytes(b"<a>" + b"x" * 500 + b"</a>")
        self.connection.max_file_size = 100
        self.connection._link_fetch()
        self.connection._link_fetch()
        errors = self.Message.search([("connection_id", "=", self.connection.id)])
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors.state, "error")
        self.assertIn("huge.xml is 507 bytes, more than the limit of 100 bytes", errors.error)
        self.assertTrue((inbox / "huge.xml").exists())

    def test_confirm_failure_keeps_the_stored_message(self):
        inbox = Path(self.tmp) / "inbox"
        inbox.mkdir(exist_ok=True)
        (inbox / "b.txt").write_bytes(b"NOTE b")
        from odoo.addons.heeros_link_base.channels import ChannelError
        with patch.object(LocalChannel, "confirm", side_effect=ChannelError("read-only")):
            messages = self.connection._link_fetch()
        self.assertEqual(messages.state, "received")
        self.assertEqual(messages.attachment_id.raw, b"NOTE b")
        # fetched again next time: the copy is recognised as a duplicate once the first is processed
        with self.registered_type(lambda m: None):
            messages._link_process()
            again = self.connection._link_fetch()
            again._link_process()
        self.assertEqual(again.state, "duplicate")

    def test_test_connection_button(self):
        action = self.connection.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.connection.local_root = False
        action = self.connection.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("no root folder", action["params"]["message"])
        self.assertEqual(self.connection.health, "error")
