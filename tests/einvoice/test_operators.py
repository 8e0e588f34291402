"""E-invoice operators through the Link's crons, against test servers of
the Maventa and Apix REST APIs started on 127.0.0.1 (tests/operators.py):
sending Finvoice and Peppol invoices with attachments, delivery status on
the invoice, failures with the salesperson's activity, receiving purchase
invoices into bills for the companies of a bureau, token expiry, the
server unreachable or answering 500, and what the servers refuse."""

import json
from datetime import timedelta

from odoo import Command, fields
from odoo.addons.heeros_link_base.channels import ChannelAuthError, ChannelConfigError, open_channel
from odoo.addons.heeros_link_base.channels.maventa import forget_tokens
from odoo.addons.heeros_link_base.channels.operator import OperatorRefused
from odoo.exceptions import AccessError
from odoo.tests.common import HttpCase, new_test_user
from tests.common import SHARED_DATA
from tests.einvoice.common import EinvoiceCase
from tests.operators import ApixServer, MaventaServer

SAMPLES = SHARED_DATA / "einvoice" / "samples"
COMPANY_UUID = "3f9c2f7e-6d7b-4a43-9a59-1d0d8f6f2a11"
USER_KEY = "user-api-key-0123456789"
VENDOR_KEY = "vendor-api-key-abcdef"
TRANSFER_ID = "b5a2c1d0e9f8"
TRANSFER_KEY = "transfer-key-secret"


class OperatorCase(EinvoiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, no_vat_validation=True))
        cls.connection.active = False  # the operator connection sends
        cls.maventa_server = MaventaServer().__enter__()
        cls.addClassCleanup(cls.maventa_server.__exit__, None, None, None)
        cls.apix_server = ApixServer().__enter__()
        cls.addClassCleanup(cls.apix_server.__exit__, None, None, None)
        Endpoint = cls.env["heeros.link.operator.endpoint"]
        cls.maventa_endpoint = Endpoint.create(
            {"name": "Maventa (local test)", "protocol": "maventa", "url": cls.maventa_server.url}
        )
        cls.apix_endpoint = Endpoint.create(
            {"name": "Apix (local test)", "protocol": "apix", "url": cls.apix_server.url}
        )

    def setUp(self):
        super().setUp()
        # the crons do the work themselves here (no job workers)
        self.env["ir.config_parameter"].sudo().set_param("heeros_link.job_workers", "off")
        forget_tokens()
        for server in (self.maventa_server, self.apix_server):
            server.requests.clear()
            server.fail_next.clear()
        self.maventa_server.invoices.clear()
        self.maventa_server.keys.clear()
        self.maventa_server.tokens.clear()
        self.maventa_server.accounts.clear()
        self.maventa_server.add_account(COMPANY_UUID, USER_KEY, VENDOR_KEY, eias={"003723456780", "0037:23456780"})
        self.apix_server.accounts.clear()
        self.apix_server.storage.clear()
        self.apix_server.add_account(TRANSFER_ID, TRANSFER_KEY, eias={"003723456780"})

    def maventa_connection(self, **values):
        return self.env["heeros.link.connection"].create(
            {
                "name": "Maventa",
                "protocol": "maventa",
                "direction": "both",
                "operator_endpoint_id": self.maventa_endpoint.id,
                "username": COMPANY_UUID,
                "password": USER_KEY,
                "vendor_api_key": VENDOR_KEY,
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
                "retry_delay": 1,
                "timeout": 5,
                **values,
            }
        )

    def apix_connection(self, **values):
        return self.env["heeros.link.connection"].create(
            {
                "name": "Apix",
                "protocol": "apix",
                "direction": "both",
                "operator_endpoint_id": self.apix_endpoint.id,
                "username": TRANSFER_ID,
                "password": TRANSFER_KEY,
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
                "timeout": 5,
                **values,
            }
        )

    def send(self, *moves):
        moves = self.env["account.move"].concat(*moves)
        self.env["account.move.send"]._generate_and_send_invoices(moves, sending_methods={"heeros_link"})
        return moves

    def run_send_cron(self):
        """The send cron, as due: every queued message made due first."""
        queued = self.env["heeros.link.message"].search([("state", "=", "queued")])
        queued.sudo().write({"next_attempt": fields.Datetime.now() - timedelta(seconds=1)})
        self.env["heeros.link.message"]._cron_send()

    def activities(self, move):
        todo = self.env.ref("mail.mail_activity_data_todo")
        return move.activity_ids.filtered(lambda a: a.activity_type_id == todo)


class TestMaventaSending(OperatorCase):
    def test_finvoice_and_peppol_delivered_and_one_failed(self):
        connection = self.maventa_connection()
        finvoice = self.make_invoice(lines=self.four_rate_lines())
        self.env["ir.attachment"].create(
            {
                "name": "timesheet.pdf",
                "raw": b"%PDF-1.4\n% timesheet\n%%EOF\n",
                "mimetype": "application/pdf",
                "res_model": "account.move",
                "res_id": finvoice.id,
            }
        )
        peppol = self.make_invoice(partner=self.peppol_buyer)
        third = self.make_invoice()
        self.send(finvoice, peppol, third)
        for move in (finvoice, peppol, third):
            self.assertEqual(move.heeros_link_state, "queued", move.heeros_link_error)
            self.assertEqual(move.heeros_link_message_id.connection_id, connection)
        # on an operator the attachments travel with the invoice, not in a second message
        self.assertFalse(finvoice.heeros_link_attachment_message_id)
        self.assertEqual(len(finvoice.heeros_link_message_id.part_ids), 2)

        self.run_send_cron()
        for move in (finvoice, peppol, third):
            self.assertEqual(move.heeros_link_message_id.state, "sent", move.heeros_link_message_id.error)
        sent = {i["number"]: i for i in self.maventa_server.sent()}
        self.assertEqual(set(sent), {finvoice.name, peppol.name, third.name})
        self.assertEqual(sent[finvoice.name]["format"], "FINVOICE30")
        self.assertEqual(len(sent[finvoice.name]["attachments"]), 2)
        self.assertEqual(sent[peppol.name]["format"], "PEPPOLBIS30")
        for move in (finvoice, peppol, third):
            self.assertEqual(move.heeros_link_state, "sent")
            self.assertEqual(move.heeros_link_operator_ref, sent[move.name]["id"])
        # one token for the whole run
        self.assertEqual(self.maventa_server.count("POST", "/oauth2/token"), 1)

        self.maventa_server.set_status(sent[finvoice.name]["id"], "DELIVERED")
        self.maventa_server.set_status(sent[peppol.name]["id"], "DELIVERED")
        self.maventa_server.set_status(
            sent[third.name]["id"], "FAILED", "Receiver's operator: e-invoice address 003701120389 is not in use"
        )
        self.env["account.move"]._cron_heeros_link_delivery()
        self.assertEqual((finvoice.heeros_link_state, peppol.heeros_link_state), ("delivered", "delivered"))
        self.assertTrue(finvoice.heeros_link_delivered_date)
        self.assertFalse(self.activities(finvoice))
        self.assertEqual(third.heeros_link_state, "failed")
        self.assertIn("003701120389 is not in use", third.heeros_link_error)
        activity = self.activities(third)
        self.assertEqual(activity.user_id, self.salesperson)
        self.assertEqual(activity.date_deadline, fields.Date.context_today(activity))

    def test_retry_after_500_and_unreachable_never_twice(self):
        connection = self.maventa_connection()
        move = self.make_invoice()
        self.send(move)
        message = move.heeros_link_message_id
        self.maventa_server.fail_next = [500]
        self.run_send_cron()
        self.assertEqual(message.state, "queued")
        self.assertIn("HTTP 500", message.error)
        self.assertEqual(message.attempts, 1)
        first_wait = message.next_attempt
        # the connection breaks after the invoice went out: unknown, tried again with the same client id
        self.maventa_server.fail_next = []
        self.run_send_cron()
        self.assertEqual(message.state, "sent")
        self.assertEqual(len(self.maventa_server.sent()), 1)
        # a lost answer: the operator took it; the retry is answered with the first delivery
        message.sudo().write({"state": "queued", "next_attempt": fields.Datetime.now()})
        self.run_send_cron()
        self.assertEqual(message.state, "sent")
        self.assertEqual(len(self.maventa_server.sent()), 1, "a repeated client id must not deliver twice")
        self.assertTrue(first_wait)
        # the server unreachable: queued again with a longer wait, nothing lost
        other = self.make_invoice()
        self.send(other)
        self.maventa_endpoint.url = "http://127.0.0.1:9"
        self.run_send_cron()
        waiting = other.heeros_link_message_id
        self.assertEqual(waiting.state, "queued")
        self.assertIn("cannot reach", waiting.error)
        self.maventa_endpoint.url = self.maventa_server.url
        self.run_send_cron()
        self.assertEqual(waiting.state, "sent")
        self.assertEqual(len(self.maventa_server.sent()), 2)
        self.assertTrue(connection.last_send)

    def test_interrupted_send_is_sent_again_with_same_id(self):
        self.maventa_connection()
        move = self.make_invoice()
        self.send(move)
        message = move.heeros_link_message_id
        self.run_send_cron()
        self.assertEqual(len(self.maventa_server.sent()), 1)
        # a worker died after the operator took it, before "sent" was recorded
        message.sudo().write({"state": "sending", "send_stage": "staging"})
        self.env["heeros.link.message"]._cron_send()
        # recovered and sent again at once, with the same client id: one delivery
        self.assertEqual(message.state, "sent")
        self.assertIn("same client id", " ".join(message.message_ids.mapped("body")))
        self.assertEqual(self.maventa_server.count("POST", "/v1/invoices"), 2)
        self.assertEqual(len(self.maventa_server.sent()), 1)

    def test_token_cached_and_renewed_when_expired_mid_run(self):
        self.maventa_connection()
        moves = [self.make_invoice() for _i in range(3)]
        self.send(*moves)
        self.run_send_cron()
        self.assertEqual(self.maventa_server.count("POST", "/oauth2/token"), 1)
        more = [self.make_invoice() for _i in range(2)]
        self.send(*more)
        self.maventa_server.expire_tokens()
        self.run_send_cron()
        self.assertEqual([m.heeros_link_state for m in more], ["sent", "sent"])
        self.assertEqual(self.maventa_server.count("POST", "/oauth2/token"), 2)

    def test_schema_invalid_refused_and_reported(self):
        connection = self.maventa_connection()
        message = self.env["heeros.link.message"]._link_queue(
            "finvoice", "broken.xml", b"<Finvoice Version='3.0'><Nothing/></Finvoice>", self.company, connection
        )
        self.run_send_cron()
        self.assertEqual(message.state, "error")
        self.assertIn("schema validation failed", message.error)
        self.assertFalse(self.maventa_server.sent())

    def test_sender_not_served_refused(self):
        self.maventa_server.accounts[COMPANY_UUID]["eias"] = {"003799999999"}
        self.maventa_connection()
        move = self.make_invoice()
        self.send(move)
        self.run_send_cron()
        self.assertEqual(move.heeros_link_state, "failed")
        self.assertIn("is not a company of this account", move.heeros_link_error)

    def test_unconfirmed_flagged_after_days(self):
        self.maventa_connection()
        move = self.make_invoice()
        self.send(move)
        self.run_send_cron()
        self.company.heeros_link_unconfirmed_days = 3
        Move = self.env["account.move"]
        self.assertFalse(Move._heeros_link_flag_unconfirmed())
        late = Move._heeros_link_flag_unconfirmed(now=fields.Datetime.now() + timedelta(days=4))
        self.assertEqual(late, move)
        self.assertEqual(Move.search_count([("heeros_link_unconfirmed", "=", True), ("id", "=", move.id)]), 1)
        self.maventa_server.set_status(move.heeros_link_operator_ref, "DELIVERED")
        self.env["account.move"]._cron_heeros_link_delivery()
        self.assertEqual(move.heeros_link_state, "delivered")
        self.assertFalse(move.heeros_link_unconfirmed)


class TestMaventaProtocol(OperatorCase):
    def channel(self, **changes):
        config = self.maventa_connection(**changes)._channel_config()
        return open_channel(config)

    def test_refusals(self):
        with self.channel(password="wrong-key") as channel, self.assertRaisesRegex(ChannelAuthError, "refused"):
            channel.test()
        forget_tokens()
        with self.channel(vendor_api_key="wrong") as channel, self.assertRaises(ChannelAuthError):
            channel.test()
        with self.channel() as channel:
            self.assertIn("token received", channel.test())
            with self.assertRaisesRegex(ChannelConfigError, "does not exist"):
                channel._api("GET", "/v1/nothing", "unknown endpoint")
            with self.assertRaisesRegex(OperatorRefused, "not well-formed"):
                channel.send("a.xml", b"<Finvoice", "k-1")
            # a call without a token is refused by the server itself
            response = channel._request("GET", "/v1/invoices", "no token")
            self.assertEqual(response.status_code, 401)

    def test_duplicate_client_id_answered_with_first_delivery(self):
        move = self.make_invoice()
        documents = move._heeros_link_documents()
        data = documents[move]["data"]
        with self.channel() as channel:
            first = channel.send("inv.xml", data, "same-id")
            second = channel.send("inv.xml", data, "same-id")
            third = channel.send("inv.xml", data, "other-id")
        self.assertEqual(first, second)
        self.assertNotEqual(first, third)
        self.assertEqual(len(self.maventa_server.sent()), 2)

    def test_credentials_only_for_system_administrators(self):
        connection = self.maventa_connection()
        manager = new_test_user(
            self.env,
            "link_manager_op",
            groups="heeros_link_base.group_link_manager,account.group_account_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        as_manager = connection.with_user(manager)
        with self.assertRaises(AccessError):
            as_manager.read(["vendor_api_key"])
        with self.assertRaises(AccessError):
            as_manager.write({"vendor_api_key": "stolen"})
        with self.assertRaises(AccessError):
            as_manager.action_new_webhook_token()
        # pointing the connection elsewhere clears its credentials
        other = self.env["heeros.link.operator.endpoint"].create(
            {"name": "Elsewhere", "protocol": "maventa", "url": "http://127.0.0.1:9"}
        )
        as_manager.operator_endpoint_id = other
        self.assertFalse(connection.sudo().password)
        self.assertFalse(connection.sudo().vendor_api_key)


class TestMaventaReceiving(OperatorCase):
    """A bureau: one Maventa account brings the purchase invoices of two companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.clients = env["res.company"]
        for name, vat in (("Kotipizza Oyj", "FI01120389"), ("Ostaja Oy", "FI12345678")):
            company = env["res.company"].create(
                {"name": name, "country_id": env.ref("base.fi").id, "vat": vat, "currency_id": env.ref("base.EUR").id}
            )
            env.user.company_ids |= company
            env["account.chart.template"].try_loading("fi", company, install_demo=False)
            cls.clients |= company
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=(cls.company | cls.clients).ids))

    def test_three_purchase_invoices_become_bills_of_their_companies(self):
        connection = self.maventa_connection(
            direction="in", company_ids=[Command.set((self.company | self.clients).ids)]
        )
        files = [
            ("2026-1001", (SAMPLES / "gobl-fi-finvoice/examples-out/invoice.xml").read_bytes()),
            ("2026-1002", (SAMPLES / "gobl-fi-finvoice/examples-out/credit-note.xml").read_bytes()),
            (
                "2013000018",
                (SAMPLES / "maventa/anon_finvoice_20_invoice_with_MessageTransmissionDetails.xml").read_bytes(),
            ),
        ]
        pdf = b"%PDF-1.4\n% invoice image\n%%EOF\n"
        for number, data in files:
            self.maventa_server.add_received(COMPANY_UUID, number, data, attachments=[(f"{number}.pdf", pdf)])
        # an invoice from long ago, outside the window, is not listed
        self.maventa_server.add_received(COMPANY_UUID, "OLD-1", files[0][1], received_at="2020-01-01T00:00:00Z")
        self.env["heeros.link.connection"]._cron_fetch()
        messages = connection.link_message_ids
        self.assertEqual(len(messages), 3)
        self.assertTrue(connection.operator_since)
        self.assertTrue(all(len(m.part_ids) == 1 for m in messages))
        self.env["heeros.link.message"]._cron_process()
        self.assertEqual(set(messages.mapped("state")), {"processed"}, messages.mapped("error"))
        bills = self.env["account.move"].search([("heeros_link_in_message_id", "in", messages.ids)])
        self.assertEqual(len(bills), 3)
        self.assertEqual(bills.company_id, self.clients)
        self.assertEqual(set(bills.mapped("state")), {"draft"})
        for bill in bills:
            names = self.env["ir.attachment"].search([("res_model", "=", "account.move"), ("res_id", "=", bill.id)])
            self.assertTrue(any(n.name.endswith(".pdf") for n in names))
        # the next run lists again from where this one began: nothing twice
        connection.next_fetch = False
        self.env["heeros.link.connection"]._cron_fetch()
        self.assertEqual(len(connection.link_message_ids), 3)

    def test_server_failing_mid_fetch_loses_nothing(self):
        connection = self.maventa_connection(direction="in")
        data = (SAMPLES / "gobl-fi-finvoice/examples-out/invoice.xml").read_bytes()
        for number in ("A-1", "A-2", "A-3"):
            self.maventa_server.add_received(COMPANY_UUID, number, data)
        # the listing answers, then the second download gets a 500
        self.maventa_server.fail_next = [None, None, None, 500]  # token, list, first file, second file
        connection._link_fetch()
        self.assertEqual(len(connection.link_message_ids), 1)
        self.assertFalse(connection.operator_since, "the window moves only after a complete run")
        self.assertIn("HTTP 500", connection.last_error)
        connection._link_fetch()
        self.assertEqual(len(connection.link_message_ids), 3, "each invoice once")
        self.assertEqual(len(set(connection.link_message_ids.mapped("remote_id"))), 3)
        self.assertTrue(connection.operator_since)
        # unreachable: nothing changes
        self.maventa_endpoint.url = "http://127.0.0.1:9"
        connection._link_fetch()
        self.assertEqual(len(connection.link_message_ids), 3)
        self.assertIn("cannot reach", connection.last_error)
        self.maventa_endpoint.url = self.maventa_server.url

    def test_paging(self):
        connection = self.maventa_connection(direction="in")
        data = (SAMPLES / "gobl-fi-finvoice/examples-out/invoice.xml").read_bytes()
        for i in range(105):
            self.maventa_server.add_received(COMPANY_UUID, f"N{i}", data)
        with connection._channel() as channel:
            listed = channel.list()
        self.assertEqual(len(listed), 105)
        self.assertEqual(self.maventa_server.count("GET", "/v1/invoices"), 2)


class TestMaventaNotifications(OperatorCase, HttpCase):
    def test_webhook_asks_maventa_and_refuses_unknown_address(self):
        connection = self.maventa_connection()
        connection.action_new_webhook_token()
        token = connection.sudo().webhook_token
        self.assertGreaterEqual(len(token), 40)
        move = self.make_invoice()
        self.send(move)
        self.run_send_cron()
        message = move.heeros_link_message_id
        event = json.dumps({"event": "DOCUMENTS.INVOICE.DELIVERED", "data": {"id": message.remote_id}})
        headers = {"Content-Type": "application/json"}
        # a notification is not believed: Maventa still says SENT
        response = self.url_open(f"/heeros_link/operator/maventa/{token}", data=event, headers=headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["checked"], 1)
        self.env.invalidate_all()
        self.assertEqual(message.state, "sent", message.message_ids.mapped("body"))
        self.maventa_server.set_status(message.remote_id, "DELIVERED")
        response = self.url_open(f"/heeros_link/operator/maventa/{token}", data=event, headers=headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["checked"], 1)
        self.env.invalidate_all()
        self.assertEqual(message.state, "accepted", message.message_ids.mapped("body"))
        self.assertEqual(move.heeros_link_state, "delivered")
        # an unknown address, or none of the right shape, says nothing
        for wrong in ("x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B")):
            response = self.url_open(f"/heeros_link/operator/maventa/{wrong}", data=event, headers=headers)
            self.assertEqual(response.status_code, 404)
        response = self.url_open(f"/heeros_link/operator/maventa/{token}", data=b"not json", headers=headers)
        self.assertEqual(response.status_code, 400)
        # "invoices received": the next fetch is brought forward
        connection.next_fetch = fields.Datetime.now() + timedelta(hours=1)
        received = json.dumps({"event": "DOCUMENTS.INVOICE.RECEIVED", "data": {"id": "x"}})
        self.url_open(f"/heeros_link/operator/maventa/{token}", data=received, headers=headers)
        connection.invalidate_recordset()
        self.assertLessEqual(connection.next_fetch, fields.Datetime.now())


class TestApix(OperatorCase):
    def test_send_zip_with_pdf_and_attachments(self):
        self.apix_connection()
        move = self.make_invoice()
        self.env["ir.attachment"].create(
            {
                "name": "timesheet.pdf",
                "raw": b"%PDF-1.4\n% timesheet\n%%EOF\n",
                "mimetype": "application/pdf",
                "res_model": "account.move",
                "res_id": move.id,
            }
        )
        self.send(move)
        self.run_send_cron()
        self.assertEqual(move.heeros_link_state, "sent", move.heeros_link_message_id.error)
        (batch,) = self.apix_server.batches.values()
        self.assertEqual(batch["number"], move.name)
        self.assertEqual(sorted(batch["files"]), ["attachments.zip", "invoice.pdf"])
        self.assertTrue(move.heeros_link_operator_ref)

    def test_wrong_digest_and_unknown_transfer_id(self):
        connection = self.apix_connection(password="not-the-key")
        with connection._channel() as channel, self.assertRaisesRegex(ChannelAuthError, "digest does not match"):
            channel.list()
        connection = self.apix_connection(username="unknown", password=TRANSFER_KEY)
        with connection._channel() as channel, self.assertRaisesRegex(ChannelAuthError, "not known to Apix"):
            channel.list()
        connection = self.apix_connection()
        with connection._channel() as channel, self.assertRaisesRegex(ChannelConfigError, "does not exist"):
            channel._call("GET", "/nothing", "unknown endpoint", {})

    def test_receive_marks_received_only_after_storing(self):
        connection = self.apix_connection(direction="in")
        data = (SAMPLES / "gobl-fi-finvoice/examples-out/invoice.xml").read_bytes()
        storage_id = self.apix_server.add_received(
            TRANSFER_ID, [("invoice.xml", data), ("invoice.pdf", b"%PDF-1.4\n%%EOF\n")]
        )
        with connection._channel() as channel:
            (remote,) = channel.list()
            parts = channel.download_parts(remote)
            self.assertEqual([p[0] for p in parts], ["invoice.xml", "invoice.pdf"])
            self.assertEqual(self.apix_server.storage[storage_id]["status"], "UNRECEIVED")
        self.env["heeros.link.connection"]._cron_fetch()
        self.assertEqual(self.apix_server.storage[storage_id]["status"], "RECEIVED")
        (message,) = connection.link_message_ids
        self.assertEqual(message.remote_id, storage_id)
        self.assertEqual(message._payload(), data)
        self.assertEqual(len(message.part_ids), 1)

    def test_500_retried_timeout_to_check(self):
        self.apix_connection()
        move = self.make_invoice()
        self.send(move)
        message = move.heeros_link_message_id
        self.apix_server.fail_next = [500]
        self.run_send_cron()
        self.assertEqual(message.state, "queued")
        self.apix_server.fail_next = ["drop"]
        self.run_send_cron()
        # Apix has no client id: a document that may have arrived is never sent blindly again
        self.assertEqual(message.state, "to_check")
        self.assertFalse(self.apix_server.batches)
