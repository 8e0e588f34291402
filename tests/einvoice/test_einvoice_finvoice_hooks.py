"""The Finvoice builder is an Odoo model: an addon extends one block with
``_inherit = "heeros.link.finvoice.builder"`` and ``super()``, and the
invoices it sends carry the change, still valid against the official
Finvoice 3.0 schema. Also the problems, keyed by the rule they concern."""

from odoo.addons.heeros_link_einvoice.formats import finvoice as fv
from tests.einvoice.common import OFFICIAL_FINVOICE_XSD, EinvoiceCase, extended_model, official_schema, tree

BUILDER = "heeros.link.finvoice.builder"


class PurchaseLedgerContact:
    """An integrator's addon: every buyer gets the purchase ledger as contact."""

    __slots__ = ()

    def _finvoice_buyer(self, move, state):
        party = super()._finvoice_buyer(move, state)
        party.contact = fv.Contact(name="Ostoreskontra", email="ostolaskut@asiakas.example")
        return party


class ProjectOnRows:
    """An integrator's addon: the invoice's reference as free text on each product row."""

    __slots__ = ()

    def _finvoice_row(self, line, state, position):
        row = super()._finvoice_row(line, state, position)
        if row is not None and row.total_excl_vat is not None and line.move_id.ref:
            row.free_text = [*row.free_text, f"Projekti {line.move_id.ref}"]
        return row


class BuyerReferenceRequired:
    """An integrator's addon: a customer rule that blocks invoices."""

    __slots__ = ()

    def _finvoice_constraints(self, move, state):
        constraints = super()._finvoice_constraints(move, state)
        if not move.ref:
            constraints["buyer_reference_required"] = "The customer requires a project number."
        return constraints


class TestFinvoiceBuilderHooks(EinvoiceCase):
    def finvoice_root(self, move):
        document = move._heeros_link_documents()[move]
        self.assertNotIn("errors", document, document.get("errors"))
        root = tree(document["data"])
        xsd = official_schema(OFFICIAL_FINVOICE_XSD)
        self.assertTrue(xsd.validate(root), str(xsd.error_log))
        return root

    def test_buyer_hook_adds_the_contact_person(self):
        move = self.make_invoice(lines=self.four_rate_lines())
        root = self.finvoice_root(move)
        self.assertIsNone(root.find("BuyerContactPersonName"))
        with extended_model(self.env, BUILDER, PurchaseLedgerContact):
            root = self.finvoice_root(move)
        self.assertEqual(root.findtext("BuyerContactPersonName"), "Ostoreskontra")
        self.assertEqual(
            root.findtext("BuyerCommunicationDetails/BuyerEmailaddressIdentifier"), "ostolaskut@asiakas.example"
        )
        # the rest of the buyer is the builder's own
        self.assertEqual(root.findtext("BuyerPartyDetails/BuyerPartyIdentifier"), "0112038-9")
        # outside the block the registry has the suite's own builder again
        self.assertIsNone(self.finvoice_root(move).find("BuyerContactPersonName"))

    def test_row_hook_and_buyer_hook_together(self):
        move = self.make_invoice(lines=self.four_rate_lines(), ref="P-314")
        with extended_model(self.env, BUILDER, ProjectOnRows, PurchaseLedgerContact):
            root = self.finvoice_root(move)
            data = move._heeros_link_documents()[move]["data"]
        rows = root.findall("InvoiceRow")
        self.assertEqual(len(rows), 4)
        for row in rows:
            self.assertEqual(row.findall("RowFreeText")[-1].text, "Projekti P-314")
        self.assertEqual(root.findtext("BuyerContactPersonName"), "Ostoreskontra")
        # the suite's own reader finds both again
        parsed = fv.parse(data, validate=True)
        self.assertEqual([row.free_text[-1] for row in parsed.rows], ["Projekti P-314"] * 4)
        self.assertEqual(parsed.buyer.contact.name, "Ostoreskontra")

    def test_reminder_uses_the_same_buyer_hook(self):
        move = self.make_invoice()
        reminder = self.env["heeros.link.reminder"].create(
            {
                "name": f"{move.name}-M1",
                "move_id": move.id,
                "date": move.invoice_date,
                "due_date": move.invoice_date,
                "principal": move.amount_total,
                "fee": 5.0,
                "channel": "finvoice",
            }
        )
        builder = self.env[BUILDER]
        with extended_model(self.env, BUILDER, PurchaseLedgerContact):
            invoice = self.env[BUILDER]._finvoice_reminder(reminder, builder._finvoice_batch())
        self.assertIsInstance(invoice, fv.FinvoiceInvoice, invoice)
        self.assertEqual(invoice.buyer.contact.name, "Ostoreskontra")
        root = tree(fv.build(invoice))
        xsd = official_schema(OFFICIAL_FINVOICE_XSD)
        self.assertTrue(xsd.validate(root), str(xsd.error_log))
        self.assertEqual(root.findtext("BuyerContactPersonName"), "Ostoreskontra")

    def test_constraint_hook_blocks_the_invoice(self):
        move = self.make_invoice()
        with extended_model(self.env, BUILDER, BuyerReferenceRequired):
            document = move._heeros_link_documents()[move]
            self.assertEqual(document["errors"], ["The customer requires a project number."])
            move.ref = "P-1"
            self.assertNotIn("errors", move._heeros_link_documents()[move])

    def test_check_keys_problems_by_rule(self):
        good = self.make_invoice()
        no_bank = self.make_invoice()
        no_bank.partner_bank_id = False
        problems = self.env[BUILDER]._finvoice_check(good | no_bank)
        self.assertEqual(problems[good], {})
        self.assertEqual(
            problems[no_bank], {"payment_account": "The invoice has no bank account (Recipient Bank) for the payment."}
        )
        # the same message reaches the sending chain
        self.assertEqual(
            no_bank._heeros_link_documents()[no_bank]["errors"],
            ["The invoice has no bank account (Recipient Bank) for the payment."],
        )
