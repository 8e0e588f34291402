"""Payment batches in real Odoo: built from vendor bills, checked before
anything is sent, approved by the two-person rule, and a bill held once."""

from datetime import date
from decimal import Decimal

from odoo import Command
from odoo.addons.heeros_link_bank.formats import pain001
from odoo.addons.heeros_link_bank.models.payment_batch import bank_text, split_street
from odoo.exceptions import UserError, ValidationError
from tests.bank.payment_common import IBAN_COMPANY, IBAN_DE, IBAN_FI, IBAN_GB, PaymentCase


class TestBatchFromBills(PaymentCase):
    def test_wizard_takes_due_unpaid_bills_with_the_filters(self):
        ref = self.fi_ref(1232)
        due = self.bill(self.supplier, 100.0, ref=ref, due=date(2026, 12, 1))
        later = self.bill(self.supplier, 200.0, due=date(2027, 2, 1))
        other = self.bill(self.supplier_de, 300.0, due=date(2026, 11, 15))
        draft = self.bill(self.supplier, 400.0, post=False)
        usd = self.bill(self.supplier_us, 50.0, currency=self.usd)

        wizard = self.wizard(due_date_to=date(2026, 12, 15))
        bills = wizard._heeros_link_bills()
        self.assertIn(due, bills)
        self.assertIn(other, bills)
        self.assertNotIn(later, bills, "due after the date")
        self.assertNotIn(draft, bills, "not posted")
        self.assertEqual(
            self.wizard(partner_ids=[Command.set(self.supplier.ids)], due_date_to=False)._heeros_link_bills(),
            due | later,
        )
        self.assertEqual(self.wizard(currency_id=self.usd.id)._heeros_link_bills(), usd)
        self.assertFalse(
            self.wizard(
                bill_journal_ids=[
                    Command.set(
                        self.env["account.journal"]
                        .search([("company_id", "=", self.company.id), ("type", "=", "general")], limit=1)
                        .ids
                    )
                ]
            )._heeros_link_bills()
        )

        action = self.wizard(due_date_to=date(2026, 12, 15), currency_id=self.eur.id).action_create_batch()
        batch = self.Batch.browse(action["res_id"])
        self.assertEqual(batch.state, "draft")
        self.assertTrue(batch.name.startswith("PAY/"))
        self.assertEqual(batch.line_ids.move_id, due | other)
        line = batch.line_ids.filtered(lambda l: l.move_id == due)
        self.assertEqual(line.iban, IBAN_FI)
        self.assertEqual(line.bic, "NDEAFIHH")
        self.assertEqual(line.reference, ref)
        self.assertFalse(line.message)
        self.assertEqual(line.amount, 100.0)
        self.assertEqual(line.creditor_name, "Toimittaja Oy")
        self.assertTrue(line.end_to_end_id.endswith(f"-{line.id}"))
        de_line = batch.line_ids - line
        self.assertEqual(de_line.message, other.ref, "no reference: the bill's number goes as the message")
        self.assertEqual(batch.amount_total, 400.0)
        self.assertEqual(batch.line_count, 2)
        self.assertEqual(batch.pain_version, "09")
        self.assertEqual(batch.address_mode, "structured")
        self.assertEqual(batch.connection_id, self.connection)
        self.assertEqual(due.heeros_link_payment_batch_id, batch)

    def test_journal_chooses_version_and_addresses(self):
        self.journal.write({"heeros_link_pain_version": "03", "heeros_link_pain_address": "hybrid"})
        batch = self.batch_of(self.bill(self.supplier, 10.0))
        self.assertEqual((batch.pain_version, batch.address_mode), ("03", "hybrid"))

    def test_list_action_opens_the_wizard_with_the_chosen_bills(self):
        bills = self.bill(self.supplier, 10.0) | self.bill(self.supplier_de, 20.0)
        action = bills.action_heeros_link_payment_batch()
        wizard = self.Wizard.browse(action["res_id"])
        self.assertEqual(wizard.move_ids, bills)
        self.assertEqual(wizard.bill_count, 2)
        action = self.env.ref("heeros_link_bank.account_move_action_heeros_link_payment_batch")
        self.assertEqual(action.binding_model_id.model, "account.move")

    def test_bill_refused_in_a_second_batch(self):
        bill = self.bill(self.supplier, 100.0)
        first = self.batch_of(bill)
        with self.assertRaisesRegex(UserError, "Already in a payment batch"):
            self.batch_of(bill)
        # the filters leave it out
        self.assertNotIn(bill, self.wizard()._heeros_link_bills())
        # adding it by hand to another batch is refused by the constraint
        other = self.Batch.create({"journal_id": self.journal.id, "company_id": self.company.id})
        with self.assertRaisesRegex(ValidationError, f"already in payment batch {first.name}"):
            with self.env.cr.savepoint():
                self.env["heeros.link.payment.line"].create(
                    {"batch_id": other.id, "move_id": bill.id, "creditor_name": "x", "iban": IBAN_FI, "amount": 100.0}
                )
                self.env.flush_all()
        # once cancelled, the bill can be paid in another batch
        first.action_cancel()
        second = self.batch_of(bill)
        self.assertEqual(second.line_ids.move_id, bill)
        self.assertEqual(bill.heeros_link_payment_batch_id, second)
        # and the cancelled batch cannot take it back
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            first.action_back_to_draft()
            self.env.flush_all()

    def test_database_refuses_a_second_live_line_for_a_bill(self):
        bill = self.bill(self.supplier, 100.0)
        self.batch_of(bill)
        other = self.Batch.create({"journal_id": self.journal.id, "company_id": self.company.id})
        self.env.flush_all()
        # below the ORM, as a concurrent transaction would meet it
        with self.assertRaises(Exception) as caught, self.env.cr.savepoint():
            self.env.cr.execute(
                """INSERT INTO heeros_link_payment_line
                                   (batch_id, company_id, move_id, creditor_name, iban, amount, currency_id,
                                    state, sequence)
                                   VALUES (%s, %s, %s, 'x', %s, 1, %s, 'draft', 1)""",
                [other.id, self.company.id, bill.id, IBAN_FI, self.eur.id],
            )
        self.assertIn("heeros_link_payment_line_move_live_uniq", str(caught.exception))


class TestLineChecks(PaymentCase):
    def problems(self, batch):
        return "\n".join(text for _line, text in batch._heeros_link_check_lines())

    def test_valid_sepa_lines_pass(self):
        batch = self.batch_of(
            self.bill(self.supplier, 10.0, ref=self.fi_ref(1232))
            | self.bill(self.supplier_de, 20.0, ref="RF18539007547034")
            | self.bill(self.supplier_gb, 30.0)
        )
        self.assertEqual(self.problems(batch), "")
        batch.action_approve()
        self.assertEqual(batch.state, "approved")

    def test_invalid_iban_refused(self):
        batch = self.batch_of(self.bill(self.supplier, 10.0))
        batch.line_ids.iban = "FI2112345600000786"
        self.assertIn("IBAN FI2112345600000786 is not valid", self.problems(batch))
        with self.assertRaisesRegex(UserError, "IBAN FI2112345600000786 is not valid"):
            batch.action_approve()
        self.assertEqual(batch.state, "draft")

    def test_invalid_reference_refused(self):
        batch = self.batch_of(self.bill(self.supplier, 10.0))
        batch.line_ids.reference = "12345"
        with self.assertRaisesRegex(UserError, "Payment reference 12345 is neither a valid Finnish"):
            batch.action_approve()
        batch.line_ids.reference = "RF19539007547034"
        self.assertIn("RF19539007547034", self.problems(batch))

    def test_missing_bic_refused_outside_sepa(self):
        bill = self.bill(self.supplier_us, 10.0, currency=self.usd)
        batch = self.batch_of(bill, kind="foreign")
        self.assertEqual(self.problems(batch), "")
        batch.line_ids.bic = False
        self.assertIn("needs the BIC", self.problems(batch))
        # EUR within SEPA needs none
        sepa = self.batch_of(self.bill(self.supplier_de, 10.0))
        self.assertFalse(sepa.line_ids.bic)
        self.assertEqual(self.problems(sepa), "")

    def test_missing_town_refused_for_gb(self):
        self.supplier_gb.city = False
        batch = self.batch_of(self.bill(self.supplier_gb, 10.0))
        self.assertEqual(batch.line_ids.iban, IBAN_GB)
        with self.assertRaisesRegex(UserError, "Supplier Ltd: .*postal address; fill in the town"):
            batch.action_approve()
        # the same partner in Germany (EEA, SEPA) would need no address
        self.supplier_de.city = False
        self.assertEqual(self.problems(self.batch_of(self.bill(self.supplier_de, 10.0))), "")

    def test_address_required_outside_sepa(self):
        self.supplier_us.write({"city": False, "country_id": False})
        batch = self.batch_of(self.bill(self.supplier_us, 10.0, currency=self.usd), kind="foreign")
        batch.line_ids.country_id = False
        self.assertIn("fill in the town and country", self.problems(batch))


class TestApproval(PaymentCase):
    def test_two_person_rule(self):
        self.company.heeros_link_payment_two_person = True
        bill = self.bill(self.supplier, 10.0)
        self.env = self.env(user=self.user)
        batch = self.batch_of(bill.with_env(self.env))
        self.assertEqual((batch.create_uid, batch.last_change_uid), (self.user, self.user))
        with self.assertRaisesRegex(UserError, "requires a second person"):
            batch.action_approve()
        batch.with_user(self.user2).action_approve()
        self.assertEqual(batch.state, "approved")
        self.assertEqual(batch.approved_by_id, self.user2)
        self.assertTrue(batch.approved_at)
        # the approver changes an amount: back to draft, and he may not approve his own change
        batch.with_user(self.user2).line_ids.amount = 9.0
        self.assertEqual(batch.state, "draft")
        self.assertFalse(batch.approved_by_id)
        self.assertEqual(batch.last_change_uid, self.user2)
        with self.assertRaisesRegex(UserError, "requires a second person"):
            batch.with_user(self.user2).action_approve()
        with self.assertRaisesRegex(UserError, "requires a second person"):
            batch.with_user(self.user).action_approve()  # he created it
        batch.with_user(self.manager).action_approve()
        self.assertEqual(batch.approved_by_id, self.manager)

    def test_without_the_rule_the_creator_approves(self):
        batch = self.batch_of(self.bill(self.supplier, 10.0))
        batch.action_approve()
        self.assertEqual(batch.approved_by_id, self.env.user)
        batch.execution_date = date(2026, 12, 9)
        self.assertEqual(batch.state, "draft", "a changed approved batch goes back to draft")


class TestBillReference(PaymentCase):
    def test_invalid_reference_flagged_on_the_bill(self):
        bill = self.bill(self.supplier, 10.0, ref="12345", post=False)
        self.assertIn("12345 is not a valid payment reference", bill.heeros_link_reference_warning)
        bill.payment_reference = self.fi_ref(1232)
        self.assertFalse(bill.heeros_link_reference_warning)
        bill.payment_reference = "RF19539007547034"
        self.assertTrue(bill.heeros_link_reference_warning)
        bill.payment_reference = "RF18539007547034"
        self.assertFalse(bill.heeros_link_reference_warning)
        bill.payment_reference = "Invoice 2026-15"  # free text is not a reference
        self.assertFalse(bill.heeros_link_reference_warning)

    def test_warning_on_the_form_while_typing(self):
        from odoo.tests import Form

        with Form(self.env["account.move"].with_context(default_move_type="in_invoice")) as form:
            form.partner_id = self.supplier
            form.payment_reference = "12345"
            self.assertIn("not a valid payment reference", form.heeros_link_reference_warning)
            form.payment_reference = self.fi_ref(1232)
            self.assertFalse(form.heeros_link_reference_warning)
            with form.invoice_line_ids.new() as line:
                line.name = "x"
                line.price_unit = 1
        self.assertIn(IBAN_DE[:2], "DE")


class TestSending(PaymentCase):
    def send(self, batch):
        batch.action_approve()
        batch.action_send()
        message = batch.heeros_link_message_ids
        self.assertEqual(len(message), 1)
        return message, message._payload()

    def test_sepa_batch_sent_in_both_versions(self):
        for version in ("09", "03"):
            with self.subTest(version=version):
                self.journal.heeros_link_pain_version = version
                bills = (
                    self.bill(self.supplier, 120.5, ref=self.fi_ref(1232))
                    | self.bill(self.supplier_de, 80.0, ref="RF18539007547034")
                    | self.bill(self.supplier_gb, 30.0)
                )
                batch = self.batch_of(bills)
                message, data = self.send(batch)
                self.assertEqual(pain001.validate(data, message.file_name), version)
                doc = pain001.read(data, message.file_name)
                self.assertEqual(doc.message_id, batch.pain_message_id)
                self.assertEqual(len(doc.infos), 1, "all SEPA in one payment information")
                info = doc.infos[0]
                self.assertEqual(info.service_level, "SEPA")
                self.assertEqual(info.execution_date, date(2026, 12, 7))
                self.assertEqual(info.debtor.iban, IBAN_COMPANY)
                by_id = {p.end_to_end_id: p for p in doc.payments}
                self.assertEqual(set(by_id), set(batch.line_ids.mapped("end_to_end_id")))
                fi_line = batch.line_ids.filtered(lambda l: l.partner_id == self.supplier)
                self.assertEqual(by_id[fi_line.end_to_end_id].reference, self.fi_ref(1232))
                self.assertEqual(by_id[fi_line.end_to_end_id].amount, Decimal("120.50"))
                gb = by_id[batch.line_ids.filtered(lambda l: l.partner_id == self.supplier_gb).end_to_end_id]
                self.assertEqual(gb.creditor.address.town, "London")
                self.assertEqual(gb.creditor.address.country, "GB")
                self.assertTrue(all(line.payment_info_id == info.payment_info_id for line in batch.line_ids))
                # queued on the batch's connection, linked to the batch
                self.assertEqual(message.state, "queued")
                self.assertEqual(message.connection_id, self.connection)
                self.assertEqual(message.document_type, "pain.001")
                self.assertIn(batch, message._linked("heeros.link.payment.batch"))
                self.assertEqual(batch.state, "queued")
                # the bills are paid through the outstanding payments account
                self.assertEqual(set(bills.mapped("payment_state")), {"in_payment"})
                payments = batch.line_ids.payment_id
                self.assertEqual(len(payments), 3)
                self.assertEqual(set(payments.mapped("state")), {"in_process"})
                self.assertEqual(payments.journal_id, self.journal)
                outstanding = payments.outstanding_account_id
                self.assertEqual(len(outstanding), 1)
                self.assertNotEqual(outstanding, self.journal.default_account_id, "not booked to the bank yet")
                self.assertIn(outstanding, payments.move_id.line_ids.account_id)
                self.assertEqual(bills.matched_payment_ids, payments)
                # sending: the batch, its lines and the bills show when
                message._link_send()
                self.assertEqual(message.state, "sent")
                self.assertEqual(batch.state, "sent")
                self.assertTrue(batch.sent_at)
                self.assertEqual(set(batch.line_ids.mapped("state")), {"sent"})
                self.assertEqual(bills[0].heeros_link_payment_sent_at, batch.sent_at)

    def test_structured_and_hybrid_addresses(self):
        self.supplier_gb.street = "High Street 1 B"
        for mode in ("structured", "hybrid"):
            with self.subTest(mode=mode):
                self.journal.heeros_link_pain_address = mode
                batch = self.batch_of(self.bill(self.supplier_gb, 10.0))
                message, data = self.send(batch)
                address = pain001.read(data, message.file_name).payments[0].creditor.address
                self.assertEqual((address.town, address.country), ("London", "GB"))
                if mode == "structured":
                    self.assertEqual(
                        (address.street, address.building, address.postcode), ("High Street", "1 B", "EC1A 1BB")
                    )
                    self.assertFalse(address.lines)
                else:
                    self.assertFalse(address.street)
                    self.assertEqual(tuple(address.lines), ("High Street 1 B", "EC1A 1BB"))
                self.assertIn(b"<TwnNm>London</TwnNm>", data)

    def test_urgent_and_foreign_payments(self):
        urgent = self.batch_of(self.bill(self.supplier, 10.0), kind="urgent")
        message, data = self.send(urgent)
        info = pain001.read(data, message.file_name).infos[0]
        self.assertEqual(info.service_level, "URGP")
        foreign = self.batch_of(self.bill(self.supplier_us, 99.0, currency=self.usd), kind="foreign")
        message, data = self.send(foreign)
        doc = pain001.read(data, message.file_name)
        self.assertNotEqual(doc.infos[0].service_level, "SEPA")
        self.assertEqual(doc.infos[0].charge_bearer, "SHAR")
        payment = doc.payments[0]
        self.assertEqual((payment.currency, payment.creditor.bic), ("USD", "CHASUS33"))
        self.assertEqual(payment.creditor.other_account, "000123456789")
        self.assertEqual(payment.creditor.address.town, "New York")

    def test_mixed_sepa_and_foreign_lines_go_in_separate_groups(self):
        batch = self.batch_of(self.bill(self.supplier, 10.0) | self.bill(self.supplier_us, 20.0, currency=self.usd))
        message, data = self.send(batch)
        doc = pain001.read(data, message.file_name)
        self.assertEqual(sorted(str(i.service_level) for i in doc.infos), ["None", "SEPA"])
        self.assertEqual(len(set(batch.line_ids.mapped("payment_info_id"))), 2)

    def test_failing_file_never_leaves(self):
        bill = self.bill(self.supplier, 10.0)
        batch = self.batch_of(bill)
        batch.action_approve()
        # a name the schema cannot take slips past the line checks
        batch.line_ids.sudo().with_context().write({"creditor_name": "\u0007"})
        batch.sudo().state = "approved"
        with self.assertRaisesRegex(UserError, batch.line_ids._heeros_link_label()[:20]):
            batch.action_send()
        self.assertFalse(batch.heeros_link_message_ids)
        self.assertEqual(batch.state, "approved")
        self.assertEqual(bill.payment_state, "not_paid")

    def test_bank_text_and_street(self):
        self.assertEqual(bank_text("Müller & Söhne GmbH", 70), "Muller + Söhne GmbH")
        self.assertEqual(bank_text("Åke Öhman Straße", 70), "Åke Öhman Strasse")
        self.assertEqual(bank_text("x" * 80, 70), "x" * 70)
        self.assertEqual(split_street("Kauppakatu 5 B 12"), ("Kauppakatu", "5 B 12"))
        self.assertEqual(split_street("Hauptstr."), ("Hauptstr.", ""))
