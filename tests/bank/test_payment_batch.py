"""Payment batches in real Odoo: built from vendor bills, checked before
anything is sent, approved by the two-person rule, and a bill held once."""

from datetime import date

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from tests.bank.payment_common import IBAN_DE, IBAN_FI, IBAN_GB, PaymentCase


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
        self.assertEqual(self.wizard(partner_ids=[Command.set(self.supplier.ids)], due_date_to=False)._heeros_link_bills(),
                         due | later)
        self.assertEqual(self.wizard(currency_id=self.usd.id)._heeros_link_bills(), usd)
        self.assertFalse(self.wizard(bill_journal_ids=[Command.set(
            self.env["account.journal"].search([("company_id", "=", self.company.id),
                                                ("type", "=", "general")], limit=1).ids)])._heeros_link_bills())

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
                self.env["heeros.link.payment.line"].create({
                    "batch_id": other.id, "move_id": bill.id, "creditor_name": "x", "iban": IBAN_FI,
                    "amount": 100.0})
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
            self.env.cr.execute("""INSERT INTO heeros_link_payment_line
                                   (batch_id, company_id, move_id, creditor_name, iban, amount, currency_id,
                                    state, sequence)
                                   VALUES (%s, %s, %s, 'x', %s, 1, %s, 'draft', 1)""",
                                [other.id, self.company.id, bill.id, IBAN_FI, self.eur.id])
        self.assertIn("heeros_link_payment_line_move_live_uniq", str(caught.exception))


class TestLineChecks(PaymentCase):
    def problems(self, batch):
        return "\n".join(text for _line, text in batch._heeros_link_check_lines())

    def test_valid_sepa_lines_pass(self):
        batch = self.batch_of(self.bill(self.supplier, 10.0, ref=self.fi_ref(1232))
                              | self.bill(self.supplier_de, 20.0, ref="RF18539007547034")
                              | self.bill(self.supplier_gb, 30.0))
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
