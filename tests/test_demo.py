"""The demo a person clicks through: the demo data of the bank and
e-invoicing addons, loaded here as ``bash .ci/link run`` loads it, works
without fixing anything. The demo invoices pass the Link's send checks and
go out by Heeros Link, the demo statements pay them (reconciled), the files
left for *Fetch now* wait for the button, reminders run, purchase invoices
arrived as draft bills, and each demo user has their language, home and
companies."""

from datetime import date
from pathlib import Path

from odoo.modules.module import get_module_path
from odoo.tests.common import TransactionCase
from odoo.tools import convert_file
from tests.common import link_folder

COMPANIES = ("bureau", "aurinko", "kivi")


class TestDemo(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        link_folder(cls.env)
        for module, path in (
            ("heeros_link_bank", "demo/heeros_link_demo.xml"),
            ("heeros_link_einvoice", "demo/heeros_link_einvoice_demo.xml"),
        ):
            convert_file(cls.env, module, path, {}, mode="init", noupdate=True, kind="demo")
        cls.env.invalidate_all()

    def ref(self, xmlid):
        if "." not in xmlid:
            xmlid = f"heeros_link_bank.{xmlid}"
        return self.env.ref(xmlid)

    def company(self, key):
        return self.ref(f"demo_company_{key}")

    def invoice(self, key, name):
        module = "heeros_link_bank" if name in ("matti", "esimerkki_1", "esimerkki_2") else "heeros_link_einvoice"
        return self.env.ref(f"{module}.demo_invoice_{key}_{name}")

    # ------------------------------------------------------------------
    def test_companies_send_and_receive_e_invoices(self):
        for key in COMPANIES:
            company = self.company(key)
            own = company._heeros_link_own_address()
            self.assertTrue(own.address and own.intermediator, company.name)
            self.assertEqual(own.peppol_eas, "0216", company.name)
            self.assertFalse(own._problems(), company.name)
            bank = company.partner_id.bank_ids
            self.assertTrue(bank and all(b.bank_id.bic for b in bank), f"{company.name}: a BIC on every account")
            self.assertTrue(company.heeros_link_reminder_level_ids, company.name)

    def test_demo_invoices_pass_the_send_checks(self):
        moves = self.env["account.move"]
        for key in COMPANIES:
            for name in ("matti", "esimerkki_1", "esimerkki_2", "esimerkki_3", "pirkka"):
                move = self.invoice(key, name)
                self.assertEqual(move.state, "posted", move.name)
                self.assertTrue(all(len(line.tax_ids) == 1 for line in move.invoice_line_ids), move.name)
                moves |= move
        sendable = moves.filtered(lambda m: m._heeros_link_effective_address().delivery in ("finvoice", "peppol"))
        documents = sendable._heeros_link_documents()
        errors = {move.name: doc["errors"] for move, doc in documents.items() if doc.get("errors")}
        self.assertFalse(errors)
        formats = {move.partner_id.name: documents[move]["format"] for move in sendable}
        self.assertEqual(formats, {"Oy Esimerkki Ab": "finvoice", "Pirkanmaan Palvelut Oy": "peppol"})
        # the consumer gets a PDF by e-mail: Odoo's own method
        matti = self.invoice("aurinko", "matti")
        self.assertEqual(self.env["account.move.send"]._get_default_sending_method(matti), "email")

    def test_send_at_once_from_send_and_print(self):
        moves = self.invoice("kivi", "esimerkki_3") | self.invoice("kivi", "pirkka")
        Send = self.env["account.move.send"]
        for move in moves:
            self.assertEqual(Send._get_default_sending_method(move), "heeros_link", move.partner_id.name)
        wizard = (
            self.env["account.move.send.batch.wizard"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({})
        )
        self.assertFalse(wizard.alerts)
        wizard.action_send_and_print(force_synchronous=True)
        for move in moves:
            self.assertFalse(move.heeros_link_error, move.heeros_link_error)
            self.assertEqual(move.heeros_link_message_id.state, "queued")
            self.assertEqual(
                move.heeros_link_message_id.connection_id,
                self.env.ref("heeros_link_einvoice.demo_connection_operator_kivi"),
            )
        self.assertEqual(sorted(moves.heeros_link_message_id.mapped("document_type")), ["finvoice", "peppol-bis3"])

    def test_statements_pay_the_demo_invoices(self):
        for key in COMPANIES:
            for name in ("matti", "esimerkki_1"):
                move = self.invoice(key, name)
                self.assertIn(move.payment_state, ("paid", "in_payment"), move.name)
                # paid by the statement line the Link reconciled with it
                payments = move.line_ids.matched_credit_ids.credit_move_id.move_id
                line = payments.statement_line_id
                self.assertTrue(line, move.name)
                self.assertEqual(line.heeros_link_match_state, "paid", move.name)
                self.assertEqual(line.company_id, self.company(key))
            waiting = self.invoice(key, "esimerkki_2")
            self.assertEqual(waiting.payment_state, "not_paid", "its payment is in the file waiting for Fetch now")

    def test_fetch_now_files_wait_for_the_button(self):
        connection = self.ref("demo_connection_aurinko")
        self.assertFalse(connection.fetch_scheduled)
        inbox = Path(connection._link_local_folder_root()) / connection.sudo().local_root / "inbox"
        self.assertEqual([p.name for p in inbox.iterdir()], ["camt053_KA_20261128.xml"])
        self.env["heeros.link.connection"]._cron_fetch()
        self.assertTrue(any(inbox.iterdir()), "the scheduler left the file for the button")
        waiting = self.invoice("aurinko", "esimerkki_2")
        self.assertEqual(waiting.payment_state, "not_paid")
        connection.action_fetch_now()
        self.assertFalse(any(inbox.iterdir()))
        self.assertIn(waiting.payment_state, ("paid", "in_payment"))

    def test_reminders_run(self):
        company = self.company("aurinko")
        Move = self.env["account.move"]
        plan = Move._heeros_link_reminder_plan(company, date(2026, 12, 4))
        self.assertIn(self.invoice("aurinko", "pirkka"), [entry["move"] for entry in plan])
        reminders = Move._heeros_link_send_reminders(plan, date(2026, 12, 4))
        self.assertTrue(reminders)
        self.assertEqual(set(reminders.level_id.mapped("days_overdue")), {7})
        later = Move._heeros_link_reminder_plan(company, date(2026, 12, 20))
        second = [entry for entry in later if entry["move"] == self.invoice("aurinko", "pirkka")]
        self.assertEqual(len(second), 1)
        self.assertGreater(second[0]["interest"], 0)
        self.assertEqual(second[0]["interest_rate"], 2.5 + company.heeros_link_penalty_margin)

    def test_purchase_invoices_arrived_as_draft_bills(self):
        inbox = Path(get_module_path("heeros_link_einvoice")) / "demo" / "inbox"
        for key in COMPANIES:
            files = sorted(p.name for p in (inbox / key).iterdir())
            self.assertTrue(files, key)
            connection = self.env.ref(f"heeros_link_einvoice.demo_connection_operator_{key}")
            messages = connection.link_message_ids
            self.assertEqual(sorted(messages.mapped("file_name")), files)
            self.assertEqual(set(messages.mapped("state")), {"processed"}, messages.mapped("error"))
            bills = messages.link_ids.filtered(lambda link: link.res_model == "account.move")
            bills = self.env["account.move"].browse(bills.mapped("res_id"))
            self.assertEqual(set(bills.mapped("move_type")), {"in_invoice"})
            self.assertEqual(set(bills.mapped("state")), {"draft"})
            self.assertEqual(bills.company_id, self.company(key))

    def test_payment_batch_sent_and_accepted(self):
        bill = self.ref("demo_bill_aurinko_rent")
        line = self.env["heeros.link.payment.line"].search([("move_id", "=", bill.id)])
        self.assertEqual(len(line), 1)
        batch = line.batch_id
        self.assertEqual(batch.company_id, self.company("aurinko"))
        self.assertEqual(batch.state, "accepted")
        states = {message.document_type: message.state for message in batch.heeros_link_message_ids}
        self.assertEqual(states, {"pain.001": "accepted", "pain.002": "processed"})
        outbox = Path(batch.connection_id._link_local_folder_root()) / batch.connection_id.sudo().local_root / "outbox"
        sent = batch.heeros_link_message_ids.filtered(lambda m: m.document_type == "pain.001")
        self.assertIn(sent.file_name, [p.name for p in outbox.iterdir()], "the payment file went to the bank folder")

    def test_users_language_home_and_companies(self):
        action = self.env.ref("heeros_link_base.heeros_link_overview_action")
        admin = self.env.ref("base.user_admin")
        bureau = self.ref("demo_user_bureau")
        client = self.ref("demo_user_client")
        self.assertEqual((admin.lang, bureau.lang, client.lang), ("en_US", "fi_FI", "sv_SE"))
        self.assertEqual({admin.action_id.id, bureau.action_id.id, client.action_id.id}, {action.id})
        Users = self.env["res.users"]
        self.assertEqual(
            Users._heeros_link_login_company_ids(bureau),
            [self.company(key).id for key in COMPANIES],
        )
        self.assertEqual(Users._heeros_link_login_company_ids(client), [])
        self.assertIn(self.company("kivi").id, Users._heeros_link_login_company_ids(admin))
