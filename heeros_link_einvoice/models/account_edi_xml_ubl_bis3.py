from odoo import models
from odoo.addons.heeros_link_base.formats import reference as fi_reference

from .. import identifiers


class AccountEdiXmlUBLBIS3(models.AbstractModel):
    """Finnish specifics of Peppol BIS Billing 3.0 on top of Odoo's builder:
    endpoints from the e-invoice addresses (0216 OVT code, 0213 VAT number),
    the business ID as legal entity identifier, the buyer reference, and the
    Finnish or RF creditor reference as payment id of a SEPA credit transfer.

    Odoo 18 has two writers: the QWeb templates fed by ``_export_invoice_vals``
    and, when the system parameter
    ``account_edi_ubl_cii.use_new_dict_to_xml_helpers`` is set, the node
    dictionaries of ``_export_invoice_new``. Both take the Finnish values from
    the same ``_heeros_link_*`` methods below."""

    _inherit = "account.edi.xml.ubl_bis3"

    # ------------------------------------------------------------------
    # the Finnish values, shared by both writers
    # ------------------------------------------------------------------
    def _heeros_link_endpoint(self, invoice, role):
        """``(scheme, endpoint)`` of the ``supplier`` or ``customer`` from its
        e-invoice address, or None to keep Odoo's own."""
        if role == "customer":
            address = invoice.heeros_link_einvoice_address_id
        else:
            address = invoice.company_id._heeros_link_own_address()
        if address and address.peppol_eas and address.peppol_endpoint:
            return address.peppol_eas, address.peppol_endpoint
        return None

    def _heeros_link_legal_id(self, partner):
        """The valid Finnish business ID (ICD 0212) of a partner, or ``""``."""
        if partner.country_code != "FI":
            return ""
        business_id = identifiers.business_id_compact(
            partner.company_registry or identifiers.business_id_from_vat(partner.vat)
        )
        if business_id and not identifiers.check_business_id(business_id):
            return business_id
        return ""

    def _heeros_link_payment_id(self, invoice):
        """The Finnish or RF creditor reference of the invoice, or ``""``."""
        reference = fi_reference.compact(invoice.payment_reference or "")
        return reference if reference and fi_reference.kind(reference) else ""

    def _heeros_link_sepa_transfer(self, invoice, code):
        """Whether a credit transfer (code 30) is a SEPA credit transfer (58)."""
        return code == 30 and invoice.currency_id.name == "EUR" and bool(invoice.partner_bank_id)

    # ------------------------------------------------------------------
    # shared by both writers
    # ------------------------------------------------------------------
    def _get_tax_unece_codes(self, customer, supplier, tax):
        # EXTENDS account.edi.common: the VAT category set on the tax wins
        if tax and "heeros_link_vat_category" in tax._fields and tax.heeros_link_vat_category:
            return tax._heeros_link_unece_dict(supplier, customer)
        return super()._get_tax_unece_codes(customer, supplier, tax)

    # ------------------------------------------------------------------
    # QWeb writer (the default)
    # ------------------------------------------------------------------
    def _get_partner_party_legal_entity_vals_list(self, partner):
        # EXTENDS account.edi.xml.ubl_bis3: Finnish business ID (ICD 0212)
        vals_list = super()._get_partner_party_legal_entity_vals_list(partner)
        business_id = self._heeros_link_legal_id(partner)
        if business_id:
            for vals in vals_list:
                vals["company_id"] = business_id
                vals["company_id_attrs"] = {"schemeID": "0212"}
        return vals_list

    def _export_invoice_vals(self, invoice):
        # EXTENDS account.edi.xml.ubl_bis3
        vals = super()._export_invoice_vals(invoice)
        document = vals["vals"]
        for role, key in (
            ("customer", "accounting_customer_party_vals"),
            ("supplier", "accounting_supplier_party_vals"),
        ):
            endpoint = self._heeros_link_endpoint(invoice, role)
            if endpoint:
                party_vals = document[key]["party_vals"]
                party_vals["endpoint_id"] = endpoint[1]
                party_vals["endpoint_id_attrs"] = {"schemeID": endpoint[0]}
        buyer_reference = invoice._heeros_link_buyer_reference()
        if buyer_reference:
            document["buyer_reference"] = buyer_reference
        reference = self._heeros_link_payment_id(invoice)
        if reference:
            for means in document.get("payment_means_vals_list", []):
                means["payment_id_vals"] = [reference]
                if self._heeros_link_sepa_transfer(invoice, means.get("payment_means_code")):
                    means["payment_means_code"] = 58
                    means["payment_means_code_attrs"] = {"name": "SEPA credit transfer"}
        return vals

    # ------------------------------------------------------------------
    # dict_to_xml writer (use_new_dict_to_xml_helpers)
    # ------------------------------------------------------------------
    def _get_party_node(self, vals):
        # EXTENDS account.edi.xml.ubl_bis3: Finnish business ID (ICD 0212)
        party_node = super()._get_party_node(vals)
        business_id = self._heeros_link_legal_id(vals["partner"].commercial_partner_id)
        if business_id and party_node.get("cac:PartyLegalEntity"):
            party_node["cac:PartyLegalEntity"]["cbc:CompanyID"] = {"_text": business_id, "schemeID": "0212"}
        return party_node

    def _heeros_link_set_endpoint_node(self, party_node, invoice, role):
        endpoint = self._heeros_link_endpoint(invoice, role)
        if endpoint:
            party_node["cbc:EndpointID"] = {"_text": endpoint[1], "schemeID": endpoint[0]}

    def _add_invoice_accounting_supplier_party_nodes(self, document_node, vals):
        # EXTENDS account.edi.xml.ubl_20
        super()._add_invoice_accounting_supplier_party_nodes(document_node, vals)
        self._heeros_link_set_endpoint_node(
            document_node["cac:AccountingSupplierParty"]["cac:Party"], vals["invoice"], "supplier"
        )

    def _add_invoice_accounting_customer_party_nodes(self, document_node, vals):
        # EXTENDS account.edi.xml.ubl_20
        super()._add_invoice_accounting_customer_party_nodes(document_node, vals)
        self._heeros_link_set_endpoint_node(
            document_node["cac:AccountingCustomerParty"]["cac:Party"], vals["invoice"], "customer"
        )

    def _add_invoice_header_nodes(self, document_node, vals):
        # EXTENDS account.edi.xml.ubl_bis3
        super()._add_invoice_header_nodes(document_node, vals)
        buyer_reference = vals["invoice"]._heeros_link_buyer_reference()
        if buyer_reference:
            document_node["cbc:BuyerReference"] = {"_text": buyer_reference}

    def _add_invoice_payment_means_nodes(self, document_node, vals):
        # EXTENDS account.edi.xml.ubl_bis3
        super()._add_invoice_payment_means_nodes(document_node, vals)
        invoice = vals["invoice"]
        reference = self._heeros_link_payment_id(invoice)
        means = document_node.get("cac:PaymentMeans")
        if not reference or not means:
            return
        means["cbc:PaymentID"] = {"_text": reference}
        code = means.get("cbc:PaymentMeansCode") or {}
        if self._heeros_link_sepa_transfer(invoice, code.get("_text")):
            means["cbc:PaymentMeansCode"] = {"_text": 58, "name": "SEPA credit transfer"}
