"""The bank import as hooks: an addon that overrides one method of
``heeros.link.bank.import`` changes what the import does. Here the
override is put on the registry's class for the length of a test, as an
``_inherit`` of an installed addon would be."""

from contextlib import contextmanager
from unittest.mock import patch

from .common import IBAN_A, IBAN_CUSTOMER, BankCase, camt, entry, statement


class TestImportHooks(BankCase):
    @contextmanager
    def overridden(self, name, make):
        """Override the hook ``name`` by ``make(super_method)``, a function
        of ``(model, *args)`` that may call the method it overrides."""
        Import = type(self.env["heeros.link.bank.import"])
        with patch.object(Import, name, make(getattr(Import, name))):
            yield

    def test_partner_rule_of_an_extension(self):
        """A rule the standard ones lack: the payer's first word names one
        of the company's partners (banks append a purpose to the name)."""
        parish = self.env["res.partner"].create({"name": "Kallion seurakunta", "is_company": True})
        self.env["res.partner"].create(
            {"name": "Kallion Kukka Oy", "is_company": False, "type": "contact", "parent_id": parish.id}
        )

        def file(msg):
            return camt(
                "camt.053",
                [
                    statement(
                        IBAN_A,
                        [
                            entry(30, f"{msg}-1", name="KALLION/KOLEHTI 12.3.", text="Kolehti"),
                            entry(100, f"{msg}-2", iban=IBAN_CUSTOMER, name="Someone Else"),
                            entry(-15, f"{msg}-3", name="Tuntematon", text="Maksu"),
                        ],
                        opening=0,
                    )
                ],
                msg_id=msg,
            )

        message = self.intake(("plain.xml", file("PLAIN")))
        self.assertEqual(message.state, "processed", message.error)
        plain = self.lines(self.journal_a)
        self.assertEqual(plain.mapped("partner_id"), self.customer, "the standard rules find the IBAN only")

        asked = []

        def make(super_method):
            def _link_match_partners(model, state, journal, rows):
                super_method(model, state, journal, rows)
                for row in rows:
                    name = row.detail.counterparty_name if row.detail else None
                    if row.partner_id or not name:
                        continue
                    asked.append(name)
                    word = name.replace("/", " ").split()[0]
                    found = model.env["res.partner"].search(
                        [
                            ("name", "=ilike", f"{word} %"),
                            ("parent_id", "=", False),
                            ("company_id", "in", (False, journal.company_id.id)),
                        ]
                    )
                    if len(found) == 1:
                        row.partner_id = found.commercial_partner_id.id

            return _link_match_partners

        with self.overridden("_link_match_partners", make):
            message = self.intake(("extended.xml", file("EXT")))
        self.assertEqual(message.state, "processed", message.error)
        lines = self.lines(self.journal_a) - plain
        self.assertEqual(len(lines), 3)
        collection, transfer, unknown = lines
        self.assertEqual(
            asked,
            ["KALLION/KOLEHTI 12.3.", "Tuntematon"],
            "the extension sees the rows the standard rules left without a partner",
        )
        self.assertEqual(collection.partner_id, parish)
        self.assertEqual(collection.move_id.partner_id, parish, "the journal entry has the partner too")
        self.assertEqual(collection.move_id.line_ids.partner_id, parish)
        self.assertEqual(transfer.partner_id, self.customer, "the standard result is kept")
        self.assertFalse(unknown.partner_id)

    def test_reconciliation_rule_of_an_extension(self):
        """A payment without reference whose message names the invoice
        number pays that invoice, when an addon adds that rule."""
        invoice = self.invoice(120, 3001)
        other = self.invoice(80, 3002)
        self.assertEqual(invoice.payment_state, "not_paid")

        def make(super_method):
            def _link_match_invoices(model, state, journal, rows):
                super_method(model, state, journal, rows)
                for row in rows:
                    text = row.detail.remittance_info if row.detail else None
                    if row.invoices or row.amount <= 0 or not text:
                        continue
                    found = model.env["account.move"].search(
                        [
                            ("name", "in", text.split()),
                            ("move_type", "=", "out_invoice"),
                            ("state", "=", "posted"),
                            ("payment_state", "in", ("not_paid", "partial")),
                            ("company_id", "=", journal.company_id.id),
                        ]
                    )
                    if (
                        len(found) == 1
                        and found.currency_id.compare_amounts(found.amount_residual, float(row.amount)) == 0
                    ):
                        row.invoices = found
                        row.match = "paid"
                        row.partner_id = found.commercial_partner_id.id

            return _link_match_invoices

        data = camt(
            "camt.053",
            [
                statement(
                    IBAN_A,
                    [
                        entry(120, "INVNO-1", name="Asiakas Oy", text=f"Lasku {invoice.name}"),
                        entry(50, "INVNO-2", name="Asiakas Oy", text=f"Lasku {other.name}"),  # not its amount
                        entry(80, "INVNO-3", name="Asiakas Oy", text="Lasku"),
                    ],
                    opening=0,
                )
            ],
            msg_id="INVNO",
        )
        with self.overridden("_link_match_invoices", make):
            message = self.intake(("invno.xml", data))
        self.assertEqual(message.state, "processed", message.error)
        paying, wrong_amount, no_number = self.lines(self.journal_a)
        self.assertTrue(paying.is_reconciled)
        self.assertEqual(paying.heeros_link_invoice_ids, invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(paying.partner_id, self.customer)
        for line in (wrong_amount, no_number):
            self.assertFalse(line.is_reconciled)
            self.assertFalse(line.heeros_link_invoice_ids)
        self.assertEqual(other.payment_state, "not_paid")
        self.assertIn("1 paid an invoice", message.message_ids[:1].body)
