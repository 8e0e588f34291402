from odoo import models
from odoo.addons.heeros_link_base.formats import reference as fi_reference

from .. import identifiers


class AccountEdiXmlUBLBIS3(models.AbstractModel):
    """Finnish specifics of Peppol BIS Billing 3.0 on top of Odoo's builder:
    endpoints from the e-invoice addresses (0216 OVT code, 0213 VAT number),
    the business ID as legal entity identifier, the buyer reference, and the
    Finnish or RF creditor reference as payment id of a SEPA credit transfer."""

    _inherit = "account.edi.xml.ubl_bis3"

    def _get_tax_unece_codes(self, customer, supplier, tax):
        # EXTENDS account.edi.common: the VAT category set on the tax wins
        if tax and "heeros_link_vat_category" in tax._fields and tax.heeros_link_vat_category:
            return tax._heeros_link_unece_dict(supplier, customer)
        return super()._get_tax_unece_codes(customer, supplier, tax)

    def _get_partner_party_legal_entity_vals_list(self, partner):
        # EXTENDS account.edi.xml.ubl_bis3: Finnish business ID (ICD 0212)
        vals_list = super()._get_partner_party_legal_entity_vals_list(partner)
        if partner.country_code == "FI":
            business_id = identifiers.business_id_compact(
                partner.company_registry or identifiers.business_id_from_vat(partner.vat))
            if business_id and not identifiers.check_business_id(business_id):
                for vals in vals_list:
                    vals["company_id"] = business_id
                    vals["company_id_attrs"] = {"schemeID": "0212"}
        return vals_list

    @staticmethod
    def _heeros_link_set_endpoint(party_vals, address):
        if address and address.peppol_eas and address.peppol_endpoint:
            party_vals["endpoint_id"] = address.peppol_endpoint
            party_vals["endpoint_id_attrs"] = {"schemeID": address.peppol_eas}

    def _export_invoice_vals(self, invoice):
        # EXTENDS account.edi.xml.ubl_bis3
        vals = super()._export_invoice_vals(invoice)
        document = vals["vals"]
        self._heeros_link_set_endpoint(
            document["accounting_customer_party_vals"]["party_vals"],
            invoice.heeros_link_einvoice_address_id)
        self._heeros_link_set_endpoint(
            document["accounting_supplier_party_vals"]["party_vals"],
            invoice.company_id._heeros_link_own_address())
        buyer_reference = invoice._heeros_link_buyer_reference()
        if buyer_reference:
            document["buyer_reference"] = buyer_reference
        reference = fi_reference.compact(invoice.payment_reference or "")
        if reference and fi_reference.kind(reference):
            for means in document.get("payment_means_vals_list", []):
                means["payment_id_vals"] = [reference]
                if means.get("payment_means_code") == 30 and invoice.currency_id.name == "EUR" \
                        and invoice.partner_bank_id:
                    means["payment_means_code"] = 58
                    means["payment_means_code_attrs"] = {"name": "SEPA credit transfer"}
        return vals
