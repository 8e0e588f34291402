"""Outbound messages: queue, send, retries with back-off, crash recovery, fetch."""

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

import odoo
from odoo import fields
from odoo.addons.heeros_link_base.channels.local import LocalChannel
from odoo.addons.heeros_link_base.models.locks import LOCK_SEND
from odoo.exceptions import UserError

from .common import LinkCase


class TestSend(LinkCase):
    def queue(self, name="batch.xml", data=b"<pain/>", company=None):
        return self.Message._link_queue("test.out", name, data, company or self.bureau, connection=self.connection)

    def test_queue_and_send(self):
        partner = self.env["res.partner"].create({"name": "Source record"})
        message = self.Message._link_queue(
            "test.out", "batch.xml", b"<pain/>", self.bureau, connection=self.connection, records=partner
        )
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
        with patch.object(
            LocalChannel,
            "stage",
            side_effect=__import__("odoo.addons.heeros_link_base.channels", fromlist=["ChannelError"]).ChannelError(
                "disk full"
            ),
        ):
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

    def fresh_outbox(self):
        self.connection.local_root = tempfile.mkdtemp(dir=self.tmp)
        outbox = Path(self.connection.local_root) / "outbox"
        outbox.mkdir()
        return outbox

    def interrupted(self, name, stage):
        """A message its sender left in ``sending`` at ``stage`` (then died)."""
        message = self.queue(name)
        message.write({"state": "sending", "attempts": 1, "send_stage": stage, "last_attempt": fields.Datetime.now()})
        return message

    def test_recovery_decision_table(self):
        decide = self.Message._link_recovery_action
        # (worker gone, stage, staged file present, final file present, two-phase) -> action
        table = [
            ((False, "staged", True, False, True), "wait"),
            ((False, False, False, False, False), "wait"),
            ((True, "staging", False, False, True), "requeue"),
            ((True, "staging", True, False, True), "requeue"),
            ((True, "staged", True, False, True), "publish"),
            ((True, "staged", False, False, True), "sent"),
            ((True, "staged", False, True, True), "sent"),
            ((True, "staging", False, True, True), "sent"),
            ((True, False, False, False, True), "check"),
            ((True, False, False, False, False), "check"),
            ((True, False, False, True, False), "sent"),
        ]
        for args, expected in table:
            self.assertEqual(decide(*args), expected, args)

    def test_recovery_after_crash_never_sends_twice(self):
        outbox = self.fresh_outbox()
        taken = self.interrupted("taken.xml", "staged")  # moved into place, the bank took it
        staged = self.interrupted("staged.xml", "staged")  # written, not moved yet
        partial = self.interrupted("partial.xml", "staging")  # killed while writing
        unknown = self.interrupted("unknown.xml", False)  # no stage recorded
        there = self.interrupted("there.xml", False)  # in the outbox
        (outbox / f".{staged._link_send_token()}.part").write_bytes(b"<pain/>")
        (outbox / f".{partial._link_send_token()}.part").write_bytes(b"<pa")
        (outbox / "there.xml").write_bytes(b"<pain/>")
        alive = self.interrupted("alive.xml", "staged")
        other = odoo.sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_SEND, alive.id])
            self.Message._link_recover_sending()
        finally:
            other.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_SEND, alive.id])
            other.close()
        self.assertEqual(taken.state, "sent")
        self.assertEqual(staged.state, "sent")
        self.assertEqual((outbox / "staged.xml").read_bytes(), b"<pain/>")
        self.assertEqual(partial.state, "queued")
        self.assertIn("nothing reached the remote side", partial.error)
        self.assertEqual(there.state, "sent")
        self.assertEqual(alive.state, "sending", "a sender that still runs is left alone")
        self.assertEqual(unknown.state, "to_check")
        self.assertIn("Delivery unknown", unknown.error)
        self.assertIn("unknown.xml", unknown.error)
        self.assertEqual(
            sorted(os.listdir(outbox)), ["staged.xml", "there.xml"], "nothing re-sent, no staged file left"
        )
        # the gone sender is recognised at once: no waiting period
        self.Message._link_recover_sending()
        self.assertEqual(alive.state, "sent")
        partial._link_send()
        self.assertEqual(partial.state, "sent")
        self.assertEqual((outbox / "partial.xml").read_bytes(), b"<pain/>")

    def test_delivery_unknown_asks_a_person(self):
        outbox = self.fresh_outbox()
        confirmed = self.interrupted("confirmed.xml", False)
        again = self.interrupted("again.xml", False)
        self.Message._link_recover_sending()
        self.assertEqual((confirmed | again).mapped("state"), ["to_check", "to_check"])
        self.assertIn(confirmed, self.Message.search([("state", "=", "to_check")]))
        self.Message._cron_send()
        self.assertEqual(os.listdir(outbox), [], "never re-sent automatically")
        confirmed.action_confirm_delivered()
        self.assertEqual(confirmed.state, "sent")
        again.action_send_again()
        self.assertEqual(again.state, "sent")
        self.assertEqual(os.listdir(outbox), ["again.xml"])
        with self.assertRaises(UserError):
            confirmed.action_send_again()

    def test_two_phase_upload_keeps_the_staged_name_across_attempts(self):
        outbox = self.fresh_outbox()
        message = self.queue("retry.xml")
        token = f".{message._link_send_token()}.part"
        from odoo.addons.heeros_link_base.channels import ChannelError

        with patch.object(LocalChannel, "publish", side_effect=ChannelError("disk gone")):
            message._link_send()
        # the move was refused: an ordinary failed attempt, the staged file waits under its name
        self.assertEqual(message.state, "queued")
        self.assertIn("disk gone", message.error)
        self.assertEqual(os.listdir(outbox), [token])
        message._link_send()
        self.assertEqual(message.state, "sent")
        self.assertEqual(os.listdir(outbox), ["retry.xml"])
        self.assertFalse(message.send_stage)

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
