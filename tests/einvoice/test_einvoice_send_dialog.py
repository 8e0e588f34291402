"""What the Send & Print dialog proposes for an invoice: "by Heeros Link"
chosen by the customer's e-invoice address, no warning once an address was
added after the invoice, rows without a tax reported by name (not as "no
product rows"), the payment details printed once on the PDF, and error
texts that name menu paths that exist."""

import re
from datetime import date

from odoo.exceptions import UserError
from tests.einvoice.common import EinvoiceCase


class TestSendDialog(EinvoiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plain = cls.env["res.partner"].create(
            {
                "name": "Uusi Asiakas Oy",
                "is_company": True,
                "country_id": cls.env.ref("base.fi").id,
                "street": "Uusikatu 1",
                "zip": "00100",
                "city": "Helsinki",
                "vat": "FI12345671",
                "company_registry": "1234567-1",
                "email": "laskut@uusi.example",
            }
        )

    def wizard(self, move):
        return (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )

    def add_address(self, partner, delivery="finvoice"):
        return self.env["heeros.link.einvoice.address"].create(
            {
                "partner_id": partner.id,
                "address": "003712345671",
                "operator_id": self.maventa.id,
                "delivery": delivery,
            }
        )

    def test_address_chooses_heeros_link(self):
        self.add_address(self.plain)
        self.assertFalse(self.plain.with_company(self.company).invoice_sending_method)
        move = self.make_invoice(partner=self.plain)
        self.assertEqual(self.wizard(move).sending_methods, ["heeros_link"])

    def test_peppol_address_chooses_heeros_link(self):
        self.add_address(self.plain, delivery="peppol")
        move = self.make_invoice(partner=self.plain)
        self.assertEqual(self.wizard(move).sending_methods, ["heeros_link"])

    def test_email_address_or_none_keeps_email(self):
        move = self.make_invoice(partner=self.plain)
        self.assertEqual(self.wizard(move).sending_methods, ["email"])
        self.add_address(self.plain, delivery="email")
        other = self.make_invoice(partner=self.plain)
        self.assertEqual(self.wizard(other).sending_methods, ["email"])

    def test_customer_choice_wins_over_the_address(self):
        self.add_address(self.plain)
        self.plain.with_company(self.company).invoice_sending_method = "manual"
        move = self.make_invoice(partner=self.plain)
        self.assertEqual(self.wizard(move).sending_methods, ["manual"])

    def test_address_added_after_the_invoice(self):
        move = self.make_invoice(partner=self.plain)
        self.plain.with_company(self.company).invoice_sending_method = "heeros_link"
        wizard = self.wizard(move)
        self.assertIn("heeros_link_missing_address", wizard.alerts)
        self.add_address(self.plain)
        self.assertFalse(move.heeros_link_einvoice_address_id, "the invoice itself still has none")
        wizard = self.wizard(move)
        self.assertEqual(wizard.sending_methods, ["heeros_link"])
        self.assertNotIn("heeros_link_missing_address", wizard.alerts or {})
        wizard.action_send_and_print()
        self.assertEqual(move.heeros_link_message_id.state, "queued")
        self.assertFalse(move.heeros_link_error)

    def test_rows_without_tax_are_named(self):
        move = self.make_invoice(
            lines=[("Konsultointi", 1, 100.0, self.tax_25_5.browse(), 0.0), ("Matka", 1, 20.0, self.tax_25_5, 0.0)]
        )
        problems = self.env["heeros.link.finvoice.builder"]._finvoice_check(move)[move]
        messages = [m for m in problems.values() if m]
        self.assertTrue(any("Konsultointi" in m and "0 taxes" in m for m in messages), messages)
        self.assertNotIn("rows", problems)
        untaxed = self.make_invoice(lines=[("Konsultointi", 1, 100.0, self.tax_25_5.browse(), 0.0)])
        problems = self.env["heeros.link.finvoice.builder"]._finvoice_check(untaxed)[untaxed]
        self.assertNotIn("rows", problems, "the invoice has a product row, only without a tax")

    def test_payment_details_printed_once(self):
        move = self.make_invoice(lines=self.four_rate_lines(), invoice_date_due=date(2026, 3, 16))
        html = self.env["ir.actions.report"]._render_qweb_html("account.report_invoice", move.ids)[0].decode()
        self.assertIn("heeros_link_bank_barcode", html)
        self.assertNotIn('name="payment_communication"', html)
        # without the Finnish block (a foreign account), Odoo's own lines stay
        foreign = self.env["res.partner.bank"].create(
            {"acc_number": "DE89370400440532013000", "partner_id": self.company.partner_id.id}
        )
        other = self.make_invoice(partner_bank_id=foreign.id)
        html = self.env["ir.actions.report"]._render_qweb_html("account.report_invoice", other.ids)[0].decode()
        self.assertIn('name="payment_communication"', html)
        self.assertNotIn("heeros_link_bank_barcode", html)

    def assert_menu_path_exists(self, text):
        path = re.search(r"under (.+?) \(|under (.+?)\.$", text)
        self.assertTrue(path, text)
        names = (path.group(1) or path.group(2)).split(" > ")
        menus = self.env["ir.ui.menu"].with_context(lang="en_US").search([("name", "=", names[-1])])
        self.assertIn(" > ".join(names), [m.complete_name.replace("/", " > ") for m in menus], text)

    def test_missing_rate_and_levels_point_to_real_menus(self):
        self.env["heeros.link.reference.rate"].search([("date_from", "=", date(2026, 7, 1))]).unlink()
        with self.assertRaises(UserError) as caught:
            self.company._heeros_link_reference_rate(date(2026, 9, 1))
        self.assert_menu_path_exists(str(caught.exception))
        self.company.heeros_link_reminder_level_ids.unlink()
        with self.assertRaises(UserError) as caught:
            self.env["account.move"]._heeros_link_reminder_plan(self.company, date(2026, 9, 1))
        self.assert_menu_path_exists(str(caught.exception))

    def test_current_half_year_rate_shipped(self):
        rate = self.env.ref("heeros_link_einvoice.reference_rate_2026_2")
        self.assertEqual(rate.date_from, date(2026, 7, 1))
        self.assertEqual(self.company._heeros_link_reference_rate(date(2026, 12, 4)), rate.rate)
