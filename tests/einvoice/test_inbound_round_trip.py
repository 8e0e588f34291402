"""Our own Finvoice and Peppol invoices, received by the buyer's company in
the same database, become vendor bills with the seller's totals and VAT per
rate; a credit note made with *Credit Note* goes out as Finvoice too."""

from datetime import date
from decimal import Decimal

from tests.einvoice.common import EinvoiceCase


class TestInboundRoundTrip(EinvoiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.receivers = env["res.company"]
        for partner in (cls.buyer, cls.peppol_buyer):
            company = env["res.company"].create(
                {
                    "name": f"{partner.name} (books)",
                    "country_id": env.ref("base.fi").id,
                    "vat": partner.vat,
                    "company_registry": partner.company_registry,
                    "currency_id": env.ref("base.EUR").id,
                }
            )
            env.user.company_ids |= company
            env["account.chart.template"].try_loading("fi", company, install_demo=False)
            cls.receivers |= company
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=(cls.company | cls.receivers).ids))

    def variations(self):
        """Invoices of every shape: four rates, discounts, odd quantities
        and prices, one line, many lines."""
        t = self
        return [
            self.four_rate_lines(),
            [("Konsultointi", 7, 33.33, t.tax_25_5, 12.5)],
            [("Tarvike", 3, 0.99, t.tax_14, 0.0), ("Kirja", 13, 7.77, t.tax_10, 3.0)],
            [("Rivi %s" % i, i, 1.01 * i, t.tax_25_5, 0.0) for i in range(1, 12)],
            [("Palvelu", 1, 1234.56, t.tax_25_5, 0.0), ("Vapaa", 2, 50.0, t.tax_0, 0.0)],
        ]

    def vat_per_rate(self, move):
        result = {}
        for line in move.line_ids.filtered(lambda ml: ml.display_type == "tax"):
            key = Decimal(str(line.tax_line_id.amount)).quantize(Decimal("0.01"))
            result[key] = result.get(key, Decimal(0)) + abs(Decimal(str(line.amount_currency)))
        return {k: v.quantize(Decimal("0.01")) for k, v in result.items() if v}

    def receive(self, document, receiver):
        message = self.env["heeros.link.message"]._link_intake(
            [(document["file_name"], document["data"])], company=receiver
        )
        self.assertEqual(message.state, "processed", message.error)
        bill = message._linked("account.move")
        self.assertEqual(len(bill), 1)
        self.assertEqual(bill.company_id, receiver)
        return bill

    def compare(self, move, bill):
        self.assertEqual(bill.ref, move.name)
        self.assertEqual(bill.move_type, "in_refund" if move.move_type == "out_refund" else "in_invoice")
        for field in ("amount_untaxed", "amount_tax", "amount_total"):
            self.assertAlmostEqual(bill[field], move[field], places=2, msg=f"{move.name} {field}")
        self.assertEqual(self.vat_per_rate(bill), self.vat_per_rate(move), move.name)
        self.assertFalse(bill.heeros_link_in_warning)
        self.assertEqual(bill.partner_id.vat, self.company.vat)
        self.assertEqual(bill.invoice_date_due, move.invoice_date_due)

    def test_finvoice_and_peppol_back_into_bills(self):
        receiver_fin, receiver_peppol = self.receivers
        for partner, receiver, fmt in (
            (self.buyer, receiver_fin, "finvoice"),
            (self.peppol_buyer, receiver_peppol, "peppol"),
        ):
            for i, lines in enumerate(self.variations()):
                with self.subTest(fmt=fmt, shape=i):
                    move = self.make_invoice(partner=partner, lines=lines, invoice_date_due=date(2026, 3, 16))
                    document = move._heeros_link_documents()[move]
                    self.assertNotIn("errors", document, document.get("errors"))
                    self.assertEqual(document["format"], fmt)
                    bill = self.receive(document, receiver)
                    self.compare(move, bill)
                    self.assertEqual(bill.heeros_link_in_format, "ubl" if fmt == "peppol" else "finvoice")
                    self.assertEqual(bill.payment_reference, move.payment_reference.replace(" ", ""))

    def test_credit_note_from_a_posted_invoice_sent_as_finvoice(self):
        invoice = self.make_invoice(lines=self.four_rate_lines(), invoice_date_due=date(2026, 3, 16))
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "date": date(2026, 3, 10), "reason": "Palautus"})
        )
        refund = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        refund.action_post()
        document = refund._heeros_link_documents()[refund]
        self.assertNotIn("errors", document, document.get("errors"))
        self.assertIn(b"FI", document["data"])
        self.assertIn(self.bank_account.sanitized_acc_number.encode(), document["data"])
        bill = self.receive(document, self.receivers[0])
        self.compare(refund, bill)

    def test_the_same_document_id_is_a_duplicate(self):
        move = self.make_invoice(partner=self.peppol_buyer, invoice_date_due=date(2026, 3, 16))
        document = move._heeros_link_documents()[move]
        uuid = b"<cbc:UUID>6f0b0e52-6a1e-4c52-9b7e-2f3c0d7c1a11</cbc:UUID>"
        first = document["data"].replace(b"</cbc:ID>", b"</cbc:ID>" + uuid, 1)
        bill = self.receive(dict(document, data=first), self.receivers[1])
        self.assertEqual(bill.heeros_link_in_document_id, "6f0b0e52-6a1e-4c52-9b7e-2f3c0d7c1a11")
        # another number, the same document id: the document was already received
        again = first.replace(f">{move.name}<".encode(), b">RENUMBERED-1<", 1)
        self.assertNotEqual(again, first)
        message = self.env["heeros.link.message"]._link_intake([("again.xml", again)], company=self.receivers[1])
        self.assertEqual(message.state, "duplicate", message.error)
        self.assertIn(bill.display_name, message.error)
        self.assertEqual(
            self.env["account.move"].search_count(
                [("company_id", "=", self.receivers[1].id), ("move_type", "=", "in_invoice")]
            ),
            1,
        )

    def test_one_file_of_several_invoices(self):
        """A bank's file of several Finvoices: one bill each (created
        together), each with its own totals and notes; an invoice repeated in
        the file is not made twice."""
        receiver = self.receivers[0]
        moves = [self.make_invoice(lines=lines, invoice_date_due=date(2026, 3, 16)) for lines in self.variations()[:3]]
        documents = [move._heeros_link_documents()[move]["data"] for move in moves]
        data = b"\n".join([*documents, documents[0]])
        message = self.env["heeros.link.message"]._link_intake([("pankki.xml", data)], company=receiver)
        self.assertEqual(message.state, "processed", message.error)
        bills = message._linked("account.move")
        self.assertEqual(len(bills), 3)
        for move in moves:
            bill = bills.filtered(lambda b, m=move: b.ref == m.name)
            self.assertEqual(len(bill), 1, move.name)
            self.compare(move, bill)
        self.assertIn(f"invoice {moves[0].name}", "\n".join(message.message_ids.mapped("body")))
        self.assertIn("already bill", "\n".join(message.message_ids.mapped("body")))
