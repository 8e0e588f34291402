"""With Odoo's ``purchase`` installed, a received invoice that names a
purchase order of the buyer (Finvoice ``OrderIdentifier``, UBL
``OrderReference``) becomes a bill linked to that order, its lines matched
to the order's lines; the document's own values stay the bill's."""

from datetime import date
from decimal import Decimal

from odoo import Command
from odoo.addons.heeros_link_einvoice.formats import finvoice as fv
from tests.einvoice import test_inbound_round_trip as round_trip
from tests.einvoice.common import tree, xp


class TestInboundPurchaseOrder(round_trip.TestInboundRoundTrip):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "purchase.order" not in cls.env:
            raise AssertionError("these tests need Odoo's purchase addon installed in the test database")
        cls.product.purchase_method = "purchase"  # billed on ordered quantities

    # the round trip's own tests run in their own module
    test_finvoice_and_peppol_back_into_bills = None
    test_credit_note_from_a_posted_invoice_sent_as_finvoice = None
    test_the_same_document_id_is_a_duplicate = None
    test_one_file_of_several_invoices = None

    def order(self, receiver, quantity=10, price=90.0):
        tax = self.env.ref(f"account.{receiver.id}_tax_dom_purchase_goods_25_5", raise_if_not_found=False) or self.env[
            "account.tax"
        ].search([("company_id", "=", receiver.id), ("type_tax_use", "=", "purchase"), ("amount", "=", 25.5)], limit=1)
        order = (
            self.env["purchase.order"]
            .with_company(receiver)
            .create(
                {
                    "partner_id": self.company.partner_id.id,
                    "company_id": receiver.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "name": "Konsultointi",
                                "product_qty": quantity,
                                "price_unit": price,
                                "taxes_id": [Command.set(tax.ids)],
                            }
                        )
                    ],
                }
            )
        )
        order.button_confirm()
        self.assertEqual(order.state, "purchase")
        return order

    def document(self, partner, **values):
        move = self.make_invoice(
            partner=partner,
            lines=[("Konsultointi", 10, 90.0, self.tax_25_5, 0.0)],
            invoice_date_due=date(2026, 3, 16),
            **values,
        )
        document = move._heeros_link_documents()[move]
        self.assertNotIn("errors", document, document.get("errors"))
        return move, document

    def assertLinked(self, bill, order, move):
        self.assertEqual(bill.invoice_line_ids.purchase_line_id, order.order_line)
        self.assertIn(bill, order.invoice_ids)
        self.assertEqual(order.order_line.qty_invoiced, 10)
        # the document's values are the bill's, and its totals match
        self.assertEqual(bill.ref, move.name)
        self.assertEqual(bill.invoice_date_due, move.invoice_date_due)
        self.assertEqual(bill.payment_reference, move.payment_reference.replace(" ", ""))
        self.assertEqual(Decimal(str(bill.amount_total)).quantize(Decimal("0.01")), Decimal("1129.50"))
        self.assertFalse(bill.heeros_link_in_warning)
        self.assertIn(order.name, "\n".join(bill.message_ids.mapped("body")))

    def test_finvoice_order_identifier_links_the_purchase_order(self):
        receiver = self.receivers[0]
        order = self.order(receiver)
        move, document = self.document(self.buyer, invoice_origin=order.name)
        _frame, finvoice, _offset = fv.split_frame(document["data"])
        self.assertEqual(xp(tree(finvoice), "InvoiceDetails/OrderIdentifier"), order.name)
        bill = self.receive(document, receiver)
        self.assertLinked(bill, order, move)

    def test_ubl_order_reference_links_the_purchase_order(self):
        receiver = self.receivers[1]
        order = self.order(receiver)
        move, document = self.document(self.peppol_buyer, ref=order.name)
        ns = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"}
        self.assertEqual(tree(document["data"]).xpath("string(cac:OrderReference/*)", namespaces=ns), order.name)
        bill = self.receive(document, receiver)
        self.assertLinked(bill, order, move)

    def test_an_order_of_another_company_is_never_linked(self):
        other = self.order(self.receivers[1])
        move, document = self.document(self.buyer, invoice_origin=other.name)
        bill = self.receive(document, self.receivers[0])
        self.assertFalse(bill.invoice_line_ids.purchase_line_id)
        self.assertFalse(other.invoice_ids)
        self.assertEqual(bill.ref, move.name)
