"""Peppol BIS Billing 3.0 from Odoo invoices through Odoo's own UBL builder
with the Finnish specifics: official UBL 2.1 schema, CEN and Peppol business
rules, endpoint schemes, the Finnish reference as payment id, and a round
trip through Odoo's UBL importer."""

import base64
from datetime import date
from unittest.mock import patch

from lxml import etree

from odoo.addons.heeros_link_einvoice.formats import schematron
from tests.einvoice.common import UBL_XSD_DIR, EinvoiceCase, official_schema, tree
from tests.einvoice.schematron_reference import reference_verdicts, verdicts

NEW_WRITER_PARAMETER = "account_edi_ubl_cii.use_new_dict_to_xml_helpers"
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


class TestPeppolFromInvoices(EinvoiceCase):
    def peppol(self, move):
        document = move._heeros_link_documents()[move]
        self.assertNotIn("errors", document, document.get("errors"))
        self.assertEqual(document["format"], "peppol")
        data = document["data"]
        root = tree(data)
        main = "UBL-CreditNote-2.1.xsd" if move.move_type == "out_refund" else "UBL-Invoice-2.1.xsd"
        xsd = official_schema(UBL_XSD_DIR / main)
        self.assertTrue(xsd.validate(root), str(xsd.error_log))
        findings = schematron.validate_ubl(data, rule_sets=("cen", "peppol"))
        self.assertEqual([f.describe() for f in schematron.fatal(findings)], [])
        # the same verdicts (warnings included) as the reference compiler's
        self.assertEqual(verdicts(findings), reference_verdicts(data))
        return data, root

    def value(self, root, path):
        return root.xpath(f"string({path})", namespaces=NS)

    def test_invoice_passes_schema_and_both_rule_sets(self):
        move = self.make_invoice(
            partner=self.peppol_buyer, lines=self.four_rate_lines(), invoice_date_due=date(2026, 3, 16), ref="PO-77"
        )
        _data, root = self.peppol(move)
        self.assertEqual(root.xpath("//cac:AccountingCustomerParty//cbc:EndpointID/@schemeID", namespaces=NS), ["0216"])
        self.assertEqual(self.value(root, "//cac:AccountingCustomerParty//cbc:EndpointID"), "003707375462")
        self.assertEqual(root.xpath("//cac:AccountingSupplierParty//cbc:EndpointID/@schemeID", namespaces=NS), ["0216"])
        self.assertEqual(self.value(root, "//cac:AccountingSupplierParty//cbc:EndpointID"), "003723456780")
        self.assertEqual(
            self.value(root, "//cac:AccountingSupplierParty//cac:PartyLegalEntity/cbc:CompanyID"), "2345678-0"
        )
        self.assertEqual(self.value(root, "/*/cbc:BuyerReference"), "PO-77")
        self.assertEqual(self.value(root, "//cac:PaymentMeans/cbc:PaymentMeansCode"), "58")
        self.assertEqual(self.value(root, "//cac:PaymentMeans/cbc:PaymentID"), move.payment_reference)
        self.assertEqual(self.value(root, "//cac:LegalMonetaryTotal/cbc:PayableAmount"), "1312.59")
        exempt = root.xpath("//cac:TaxSubtotal[cac:TaxCategory/cbc:ID='E']", namespaces=NS)[0]
        self.assertEqual(self.value(exempt, "cac:TaxCategory/cbc:TaxExemptionReasonCode"), "VATEX-EU-132-1C")
        self.assertEqual(self.value(exempt, "cbc:TaxableAmount"), "200.00")

    def test_vat_number_endpoint_scheme(self):
        self.peppol_address.write({"peppol_eas": "0213", "peppol_endpoint": "FI07375462"})
        move = self.make_invoice(partner=self.peppol_buyer, invoice_date_due=date(2026, 3, 16))
        _data, root = self.peppol(move)
        endpoint = root.xpath("//cac:AccountingCustomerParty//cbc:EndpointID", namespaces=NS)[0]
        self.assertEqual((endpoint.get("schemeID"), endpoint.text), ("0213", "FI07375462"))

    def test_credit_note(self):
        invoice = self.make_invoice(
            partner=self.peppol_buyer, lines=self.four_rate_lines(), invoice_date_due=date(2026, 3, 16)
        )
        refund = invoice._reverse_moves([{"invoice_date": date(2026, 3, 10)}])
        refund.action_post()
        _data, root = self.peppol(refund)
        self.assertEqual(etree.QName(root).localname, "CreditNote")
        self.assertEqual(self.value(root, "/*/cbc:CreditNoteTypeCode"), "381")
        self.assertEqual(self.value(root, "//cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"), "1312.59")
        # the credit note was reconciled with its invoice: nothing left to pay
        self.assertEqual(self.value(root, "//cac:LegalMonetaryTotal/cbc:PayableAmount"), "0.00")

    def test_reverse_charge_to_an_eu_company(self):
        self.german_address.write({"delivery": "peppol", "peppol_eas": "9930", "peppol_endpoint": "DE111111125"})
        move = self.make_invoice(
            partner=self.german,
            lines=[("Asennuspalvelu", 3, 200.0, self.tax_eu_service_0, 0.0)],
            invoice_date_due=date(2026, 6, 3),
        )
        _data, root = self.peppol(move)
        self.assertEqual(self.value(root, "//cac:TaxSubtotal/cac:TaxCategory/cbc:ID"), "AE")
        self.assertEqual(
            self.value(root, "//cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReasonCode"), "VATEX-EU-AE"
        )

    def test_round_trip_through_odoo_importer(self):
        move = self.make_invoice(
            partner=self.peppol_buyer, lines=self.four_rate_lines(), invoice_date_due=date(2026, 3, 16)
        )
        data, _root = self.peppol(move)
        purchase = self.env["account.journal"].search(
            [("company_id", "=", self.company.id), ("type", "=", "purchase")], limit=1
        )
        # the Finnish chart ships its 14 % and 10 % purchase taxes archived
        for xmlid in ("tax_dom_purchase_goods_14", "tax_dom_purchase_goods_10"):
            self.env.ref(f"account.{self.company.id}_{xmlid}").active = True
        attachment = self.env["ir.attachment"].create(
            {"name": "peppol.xml", "raw": data, "mimetype": "application/xml"}
        )
        bill = purchase.with_context(default_move_type="in_invoice")._create_document_from_attachment(attachment.ids)
        self.assertEqual(bill.move_type, "in_invoice")
        self.assertEqual(bill.ref, move.name)
        self.assertAlmostEqual(bill.amount_untaxed, 1096.00)
        self.assertAlmostEqual(bill.amount_tax, 216.59)
        self.assertAlmostEqual(bill.amount_total, 1312.59)
        self.assertEqual(bill.payment_reference, move.payment_reference)

    # ------------------------------------------------------------------
    def test_missing_own_endpoint_is_reported(self):
        self.own_address.write({"peppol_eas": False, "peppol_endpoint": False})
        move = self.make_invoice(partner=self.peppol_buyer)
        document = move._heeros_link_documents()[move]
        self.assertIn("Myyjä Oy has no own e-invoice address with a Peppol endpoint", " ".join(document["errors"]))

    def test_business_rule_findings_block_with_rule_ids(self):
        move = self.make_invoice(partner=self.peppol_buyer, invoice_date_due=date(2026, 3, 16))
        data, root = self.peppol(move)
        # without a buyer reference and an order reference Peppol rule R003 fails
        for node in root.xpath("/*/cbc:BuyerReference | /*/cac:OrderReference", namespaces=NS):
            node.getparent().remove(node)
        changed = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        errors = move._heeros_link_check_ubl(changed)
        self.assertTrue(any(e.startswith("[PEPPOL-EN16931-R003]") for e in errors), errors)
        self.assertEqual(verdicts(schematron.validate_ubl(changed)), reference_verdicts(changed))
        # and a schema error is reported before the rules run
        broken = data.replace(b"<cbc:IssueDate>", b"<cbc:IssueDateX>").replace(
            b"</cbc:IssueDate>", b"</cbc:IssueDateX>"
        )
        errors = move._heeros_link_check_ubl(broken)
        self.assertTrue(errors and "IssueDateX" in " ".join(errors), errors)

    def test_rule_findings_of_a_received_invoice_are_lines_never_errors(self):
        move = self.make_invoice(partner=self.peppol_buyer, invoice_date_due=date(2026, 3, 16))
        data, root = self.peppol(move)
        self.assertEqual(move._heeros_link_rule_findings(data), [])
        for node in root.xpath("/*/cbc:BuyerReference | /*/cac:OrderReference", namespaces=NS):
            node.getparent().remove(node)
        lines = move._heeros_link_rule_findings(etree.tostring(root), file_name="in.xml")
        self.assertTrue(lines and lines[0].startswith("fatal: [PEPPOL-EN16931-R003]"), lines)
        # a document the rules cannot run on gives a line saying why
        lines = move._heeros_link_rule_findings(b"<Finvoice/>", file_name="in.xml")
        self.assertEqual(len(lines), 1)
        self.assertIn("in.xml", lines[0])
        self.assertIn("not a UBL invoice", lines[0])

    def test_peppol_document_carries_the_pdf_when_queued(self):
        move = self.make_invoice(partner=self.peppol_buyer, invoice_date_due=date(2026, 3, 16))
        self.env["account.move.send"]._generate_and_send_invoices(move, sending_methods={"heeros_link"})
        message = move.heeros_link_message_id
        self.assertEqual(message.document_type, "peppol-bis3")
        self.assertEqual(message.state, "queued")
        root = tree(message._payload())
        embedded = root.xpath(
            "//cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", namespaces=NS
        )
        self.assertEqual(len(embedded), 1)
        self.assertEqual(base64.b64decode(embedded[0].text), move.invoice_pdf_report_id.raw)
        xsd = official_schema(UBL_XSD_DIR / "UBL-Invoice-2.1.xsd")
        self.assertTrue(xsd.validate(root), str(xsd.error_log))


class TestPeppolFromInvoicesNewWriter(TestPeppolFromInvoices):
    """The same invoices through Odoo's opt-in dict_to_xml writer
    (system parameter ``account_edi_ubl_cii.use_new_dict_to_xml_helpers``):
    every test above runs again and must give the same Finnish values."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(NEW_WRITER_PARAMETER, "1")

    def peppol(self, move):
        Builder = type(self.env["account.edi.xml.ubl_bis3"])
        with patch.object(
            Builder, "_export_invoice_new", autospec=True, side_effect=Builder._export_invoice_new
        ) as new_writer:
            result = super().peppol(move)
        self.assertEqual(new_writer.call_count, 1, "the invoice did not go through the new writer")
        return result

    def test_finnish_values_in_the_new_writer(self):
        move = self.make_invoice(partner=self.peppol_buyer, invoice_date_due=date(2026, 3, 16), ref="PO-78")
        _data, root = self.peppol(move)
        customer = root.xpath("//cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", namespaces=NS)[0]
        self.assertEqual((customer.get("schemeID"), customer.text), ("0216", "003707375462"))
        supplier = root.xpath("//cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", namespaces=NS)[0]
        self.assertEqual((supplier.get("schemeID"), supplier.text), ("0216", "003723456780"))
        legal = root.xpath("//cac:AccountingSupplierParty//cac:PartyLegalEntity/cbc:CompanyID", namespaces=NS)[0]
        self.assertEqual((legal.get("schemeID"), legal.text), ("0212", "2345678-0"))
        self.assertEqual(self.value(root, "/*/cbc:BuyerReference"), "PO-78")
        self.assertEqual(self.value(root, "//cac:PaymentMeans/cbc:PaymentMeansCode"), "58")
        self.assertEqual(self.value(root, "//cac:PaymentMeans/cbc:PaymentID"), move.payment_reference)


class TestPeppolWritersAgree(EinvoiceCase):
    """Both writers carry the same Finnish values for the same invoice."""

    FINNISH_PATHS = (
        "//cac:AccountingCustomerParty/cac:Party/cbc:EndpointID",
        "//cac:AccountingCustomerParty/cac:Party/cbc:EndpointID/@schemeID",
        "//cac:AccountingSupplierParty/cac:Party/cbc:EndpointID",
        "//cac:AccountingSupplierParty/cac:Party/cbc:EndpointID/@schemeID",
        "//cac:AccountingSupplierParty//cac:PartyLegalEntity/cbc:CompanyID",
        "//cac:AccountingSupplierParty//cac:PartyLegalEntity/cbc:CompanyID/@schemeID",
        "/*/cbc:BuyerReference",
        "//cac:PaymentMeans/cbc:PaymentMeansCode",
        "//cac:PaymentMeans/cbc:PaymentID",
    )

    def finnish_values(self, move):
        data, errors = self.env["account.edi.xml.ubl_bis3"]._export_invoice(move)
        self.assertFalse(errors, errors)
        root = tree(data)
        return {path: root.xpath(f"string({path})", namespaces=NS) for path in self.FINNISH_PATHS}

    def test_old_and_new_writer_give_the_same_finnish_values(self):
        move = self.make_invoice(partner=self.peppol_buyer, invoice_date_due=date(2026, 3, 16), ref="PO-79")
        old = self.finnish_values(move)
        self.env["ir.config_parameter"].sudo().set_param(NEW_WRITER_PARAMETER, "1")
        new = self.finnish_values(move)
        self.assertEqual(old, new)
        self.assertEqual(old["/*/cbc:BuyerReference"], "PO-79")
        self.assertEqual(old["//cac:PaymentMeans/cbc:PaymentID"], move.payment_reference)
        self.assertEqual(old["//cac:AccountingSupplierParty//cac:PartyLegalEntity/cbc:CompanyID/@schemeID"], "0212")
