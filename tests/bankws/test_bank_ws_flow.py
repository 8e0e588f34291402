"""The bank Web Services channel through the Link's crons, against the test
bank on 127.0.0.1: enrolment, a pain.001 sent, a camt.053 and a pain.002
fetched, confirmed and routed by IBAN, renewal, and the failure paths."""

from datetime import timedelta

from odoo import Command, fields
from odoo.addons.heeros_link_base.formats import bank_ws as ws
from odoo.exceptions import AccessError, UserError
from odoo.tests.common import new_test_user
from tests.bank.common import IBAN_A, IBAN_B, BankCase, camt, entry, statement
from tests.common import SHARED_DATA

from .testbank import CUSTOMER_ID, PIN, TestBank

SAMPLES = SHARED_DATA / "bank" / "samples"


class BankWsCase(BankCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("heeros_link.job_workers", "off")
        cls.bank = TestBank().start()
        cls.addClassCleanup(cls.bank.stop)
        nordea = cls.env.ref("heeros_link_base.bank_profile_nordea")
        cls.profile = nordea.copy(
            {"code": "testbank", "name": "Test bank", "root_certificate": cls.bank.root_pem, "confirm_mode": "delete"}
        )
        cls.ws = cls.env["heeros.link.connection"].create(
            {
                "name": "Bureau Web Services",
                "protocol": "bank_ws",
                "direction": "both",
                "bank_profile_id": cls.profile.id,
                "bank_environment": "TEST",
                "bank_customer_id": CUSTOMER_ID,
                "bank_target_id": "11111111A1",
                "bank_service_url": cls.bank.file_url,
                "bank_cert_service_url": cls.bank.cert_url,
                "bank_tls_ca": cls.bank.root_pem,
                "company_id": cls.company_a.id,
                "company_ids": [Command.set((cls.company_a | cls.company_b).ids)],
                "max_attempts": 3,
            }
        )
        # the folder connection of the bank tests does not take part here
        cls.connection.active = False

    def setUp(self):
        super().setUp()
        bank = self.bank
        bank.files.clear()
        bank.uploads.clear()
        bank.downloads.clear()
        bank.requests.clear()
        bank.refusals.clear()
        bank.enrolled.clear()
        bank.pins = {CUSTOMER_ID: PIN}
        bank.tamper = False
        bank.drop_downloads_after = None
        bank.expired_certificates = False
        bank._served = 0

    def enrol(self):
        self.ws.sudo().bank_pin = PIN
        self.ws.action_bank_enrol()

    def fetch(self):
        self.ws.next_fetch = False
        self.env["heeros.link.connection"]._cron_fetch()
        return self.inbound()

    def inbound(self):
        return self.Message.search([("connection_id", "=", self.ws.id), ("direction", "=", "in")], order="id")


class TestBankWsRoundTrip(BankWsCase):
    def test_enrol_upload_download_confirm_route_renew(self):
        # enrol: key pair and CSR made by the Link, certificate fetched against the PIN
        self.enrol()
        secrets = self.ws.sudo()
        self.assertIn("BEGIN PRIVATE KEY", secrets.bank_private_key)
        self.assertFalse(secrets.bank_pin, "the PIN is forgotten once used")
        self.assertEqual(self.ws.bank_cert_state, "valid")
        self.assertIn(CUSTOMER_ID, self.ws.bank_cert_subject)
        issued = self.bank.enrolled[CUSTOMER_ID]
        self.assertEqual(ws.load_certificate(secrets.bank_certificate), issued)
        chatter = " ".join(self.ws.message_ids.mapped("body"))
        self.assertNotIn("PRIVATE KEY", chatter)
        self.assertNotIn(PIN, chatter)

        # a pain.001 goes out through the send cron with the bank's file type
        pain = (SAMPLES / "pain001" / "corporatejs_pain001_1.xml").read_bytes()
        outbound = self.Message._link_queue("pain.001", "maksut.xml", pain, self.company_a, connection=self.ws)
        self.Message._cron_send()
        self.assertEqual(outbound.state, "sent", outbound.error)
        [upload] = self.bank.uploads
        self.assertEqual((upload["type"], upload["content"], upload["name"]), ("NDCORPAYS", pain, "maksut.xml"))
        self.assertEqual(outbound.remote_name, upload["reference"])

        # a camt.053 of company B's account and a pain.002 wait at the bank
        statement_file = camt("camt.053", [statement(IBAN_B, [entry(25, "ARK1", ref=None)], 100)], msg_id="WS1")
        camt_ref = self.bank.add_file("NDCAMT53L", statement_file)
        feedback = (SAMPLES / "pain002" / "corporatejs_pain002_1.xml").read_bytes()
        pain002_ref = self.bank.add_file("NDCORPAYL", feedback)
        messages = self.fetch()
        self.assertEqual(len(messages), 2)
        self.assertEqual(set(messages.mapped("external_ref")), {camt_ref, pain002_ref})
        self.assertEqual(messages.mapped("state"), ["received", "received"])
        by_ref = {m.external_ref: m for m in messages}
        self.assertEqual(by_ref[camt_ref]._payload(), statement_file)
        self.assertEqual(by_ref[pain002_ref]._payload(), feedback)
        self.assertEqual(self.bank.files, {}, "both files were confirmed (deleted) once stored")
        self.assertTrue(self.ws.last_fetch)

        # processed like any inbound file: the statement goes to company B by its IBAN
        self.Message._cron_process()
        self.assertEqual(by_ref[camt_ref].document_type, "camt.053")
        self.assertEqual(by_ref[camt_ref].company_id, self.company_b)
        self.assertEqual(by_ref[camt_ref].state, "processed", by_ref[camt_ref].error)
        self.assertEqual(by_ref[camt_ref].external_ref, camt_ref, "the bank's reference stays")
        self.assertEqual(by_ref[pain002_ref].document_type, "pain.002")

        # renewal by the daily cron when the certificate nears its end
        self.ws.sudo().bank_cert_expiry = fields.Datetime.now() + timedelta(days=20)
        self.env["heeros.link.connection"]._cron_bank_certificates()
        renewed = self.bank.enrolled[CUSTOMER_ID]
        self.assertNotEqual(renewed, issued)
        self.assertEqual(ws.load_certificate(self.ws.sudo().bank_certificate), renewed)
        self.assertGreater(self.ws.bank_cert_expiry, fields.Datetime.now() + timedelta(days=700))
        self.assertEqual(self.ws.bank_cert_state, "valid")
        # the new certificate works, the old one no longer would
        self.bank.add_file("TITO", (SAMPLES / "finnish_legacy" / "corporatejs_tito_1.txt").read_bytes())
        self.assertEqual(len(self.fetch()), 3)
        self.assertFalse(self.bank.refusals)


class TestBankWsFailures(BankWsCase):
    def test_wrong_pin_stores_nothing(self):
        self.ws.sudo().bank_pin = "0000000000000000"
        with self.assertRaisesRegex(UserError, "wrong PIN"):
            self.ws.action_bank_enrol()
        self.assertFalse(self.ws.sudo().bank_certificate)
        self.assertFalse(self.ws.sudo().bank_private_key)
        self.assertNotIn(CUSTOMER_ID, self.bank.enrolled)

    def test_enrol_needs_a_pin(self):
        with self.assertRaisesRegex(UserError, "PIN"):
            self.ws.action_bank_enrol()

    def test_expired_certificate_is_not_used_and_is_reported(self):
        self.enrol()
        key_pem, csr = ws.make_key_and_csr("Testi Oy", CUSTOMER_ID)
        expired = self.bank.issue_for(csr, expired=True)
        self.bank.enrolled[CUSTOMER_ID] = expired
        self.ws.sudo().write(
            {
                "bank_private_key": key_pem,
                "bank_certificate": ws.certificate_pem(expired),
                "bank_cert_expiry": ws.not_after(expired).replace(tzinfo=None),
            }
        )
        self.assertEqual(self.ws.bank_cert_state, "expired")
        self.bank.add_file("NDCAMT53L", b"<x/>")
        self.assertFalse(self.fetch())
        self.assertEqual(self.ws.health, "error")
        self.assertIn("expired", self.ws.last_error)
        self.assertEqual(self.bank.requests["DownloadFileList"], 0, "nothing was sent with an expired certificate")
        # the daily check cannot renew it: a person is told to enrol again
        self.env["heeros.link.connection"]._cron_bank_certificates()
        self.assertEqual(self.ws.sudo().bank_certificate, ws.certificate_pem(expired))
        self.assertTrue(self.ws.activity_ids)

    def test_tampered_answer_is_refused_and_nothing_is_stored(self):
        self.enrol()
        reference = self.bank.add_file("NDCAMT53L", b"<x/>")
        self.bank.tamper = True
        self.assertFalse(self.fetch())
        self.assertIn("refused", self.ws.last_error)
        self.assertIn("digest", self.ws.last_error)
        self.assertIn(reference, self.bank.files)
        self.bank.tamper = False
        self.assertEqual(self.fetch().external_ref, reference)

    def test_document_type_without_a_bank_code_is_an_error(self):
        self.enrol()
        message = self.Message._link_queue("tito", "x.txt", b"T00", self.company_a, connection=self.ws)
        self.Message._cron_send()
        self.assertEqual(message.state, "error")
        self.assertIn("no bank file type", message.error)
        self.assertFalse(self.bank.uploads)

    def test_file_type_unknown_to_the_bank_is_an_error_not_retried(self):
        self.enrol()
        self.profile.file_type_ids.filtered(lambda t: t.document_type == "pain.001").code = "NDBOGUS"
        message = self.Message._link_queue("pain.001", "x.xml", b"<Document/>", self.company_a, connection=self.ws)
        self.Message._cron_send()
        self.assertEqual(message.state, "error")
        self.assertIn("content type not valid", message.error)
        self.assertEqual(message.attempts, 1)
        self.assertFalse(self.bank.uploads)

    def test_bank_unreachable_mid_download_loses_nothing_and_fetches_nothing_twice(self):
        self.enrol()
        refs = [self.bank.add_file("NDCAMT53L", f"<x>{n}</x>".encode()) for n in range(3)]
        self.bank.drop_downloads_after = 1
        first = self.fetch()
        self.assertEqual(first.mapped("external_ref"), refs[:1])
        self.assertEqual(self.ws.health, "error")
        self.assertEqual(sorted(self.bank.files), refs[1:], "what was not stored stays at the bank")
        self.bank.drop_downloads_after = None
        # health compares times to the second: let the failure be a moment older
        self.ws.sudo().last_error_date = fields.Datetime.now() - timedelta(minutes=1)
        messages = self.fetch()
        self.assertEqual(sorted(messages.mapped("external_ref")), sorted(refs))
        self.assertEqual(set(self.bank.downloads.values()), {1})
        self.assertEqual(self.ws.health, "ok")

    def test_file_listed_twice_is_fetched_once(self):
        self.enrol()
        self.profile.write({"list_status": "ALL", "confirm_mode": "none"})
        reference = self.bank.add_file("NDCAMT53L", b"<x/>")
        self.assertEqual(len(self.fetch()), 1)
        self.assertEqual(self.bank.files[reference]["status"], "DLD")
        self.assertEqual(len(self.fetch()), 1)
        self.assertEqual(self.bank.downloads[reference], 1)

    def test_renewed_certificate_replaces_the_old_one_at_the_bank(self):
        self.enrol()
        old_key, old_cert = self.ws.sudo().bank_private_key, self.ws.sudo().bank_certificate
        self.ws.action_bank_renew()
        self.assertNotEqual(self.ws.sudo().bank_certificate, old_cert)
        # a copy of the Link still holding the old certificate is refused by the bank
        self.ws.sudo().write({"bank_private_key": old_key, "bank_certificate": old_cert})
        self.fetch()
        self.assertIn("not the enrolled certificate", self.ws.last_error)


class TestBankWsWarnings(BankWsCase):
    def test_warnings_60_30_7_days_once_each(self):
        self.enrol()
        self.ws.bank_auto_renew = False
        Connection = self.env["heeros.link.connection"]
        self.ws.sudo().bank_cert_expiry = fields.Datetime.now() + timedelta(days=50, hours=1)
        Connection._cron_bank_certificates()
        self.assertEqual(len(self.ws.activity_ids), 1)
        self.assertEqual(self.ws.bank_cert_state, "expiring")
        Connection._cron_bank_certificates()
        self.assertEqual(len(self.ws.activity_ids), 1, "the same threshold is announced once")
        self.ws.sudo().bank_cert_expiry = fields.Datetime.now() + timedelta(days=25, hours=1)
        Connection._cron_bank_certificates()
        self.assertEqual(len(self.ws.activity_ids), 2)
        self.ws.sudo().bank_cert_expiry = fields.Datetime.now() + timedelta(days=5, hours=1)
        Connection._cron_bank_certificates()
        self.assertEqual(len(self.ws.activity_ids), 3)
        self.assertIn("5 days", self.ws.activity_ids[0].summary + " ".join(self.ws.activity_ids.mapped("summary")))
        self.assertEqual(self.bank.enrolled[CUSTOMER_ID], ws.load_certificate(self.ws.sudo().bank_certificate))

    def test_far_expiry_warns_nobody(self):
        self.enrol()
        self.env["heeros.link.connection"]._cron_bank_certificates()
        self.assertFalse(self.ws.activity_ids)


class TestBankWsSecurity(BankWsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            "ws-manager",
            groups="heeros_link_base.group_link_manager",
            company_id=cls.company_a.id,
            company_ids=[Command.set((cls.company_a | cls.company_b).ids)],
        )

    def test_manager_cannot_enter_a_pin_or_read_the_key(self):
        self.enrol()
        connection = self.ws.with_user(self.manager)
        with self.assertRaises(AccessError):
            connection.write({"bank_pin": "1234"})
        with self.assertRaises(AccessError):
            connection.read(["bank_private_key"])
        with self.assertRaises(AccessError):
            connection.action_bank_enrol()
        # what a manager may see: who the certificate is for and when it ends
        self.assertTrue(connection.bank_cert_expiry)

    def test_manager_moving_the_agreement_clears_key_and_certificate(self):
        self.enrol()
        self.ws.with_user(self.manager).write({"bank_customer_id": "22222222"})
        self.assertFalse(self.ws.sudo().bank_private_key)
        self.assertFalse(self.ws.sudo().bank_certificate)

    def test_manager_moving_the_service_address_clears_key_and_certificate(self):
        self.enrol()
        self.ws.with_user(self.manager).write({"bank_service_url": "https://attacker.example/services"})
        self.assertFalse(self.ws.sudo().bank_private_key)

    def test_bank_whose_https_certificate_does_not_verify_is_refused(self):
        self.enrol()
        self.ws.sudo().bank_tls_ca = False
        self.bank.add_file("NDCAMT53L", b"<x/>")
        self.assertFalse(self.fetch())
        self.assertIn("does not verify", self.ws.last_error)
        self.assertEqual(self.bank.requests["DownloadFileList"], 0)

    def test_plain_http_address_is_refused(self):
        self.enrol()
        self.ws.sudo().bank_service_url = self.bank.file_url.replace("https://", "http://")
        self.assertFalse(self.fetch())
        self.assertIn("not an https:// address", self.ws.last_error)

    def test_manager_cannot_replace_the_bank_root(self):
        with self.assertRaises(AccessError):
            self.profile.with_user(self.manager).write({"root_certificate": "-----BEGIN CERTIFICATE-----"})

    def test_statement_for_an_account_no_served_company_holds_stays_in_error(self):
        self.enrol()
        other = camt("camt.053", [statement("FI2112345600000785", [entry(5, "ARK9")], 10)], msg_id="WS9")
        self.bank.add_file("NDCAMT53L", other)
        [message] = self.fetch()
        self.Message._cron_process()
        self.assertEqual(message.state, "error")
        self.assertIn("FI2112345600000785", message.error)
        self.assertTrue(IBAN_A)
