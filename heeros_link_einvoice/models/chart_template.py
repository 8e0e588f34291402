from odoo import models
from odoo.addons.account.models.chart_template import template

#: VAT category, VATEX code and text of the Finnish chart's 0 % sales taxes.
FI_TAX_CODES = {
    "tax_dom_sales_goods_0": ("E", "", "Veroton myynti (arvonlisäverolaki) / VAT exempt"),
    "tax_eu_sales_goods_0": ("K", "VATEX-EU-IC", "Yhteisömyynti / Intra-community supply"),
    "tax_eu_sales_service_0": ("AE", "VATEX-EU-AE", "Käännetty verovelvollisuus / Reverse charge"),
    "tax_construct_sales_0": ("AE", "VATEX-EU-AE", "Käännetty verovelvollisuus, AVL 8 c § / Reverse charge"),
    "vat0export": ("G", "VATEX-EU-G", "Vienti / Export outside the EU"),
}


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    @template("fi", "account.tax")
    def _get_fi_heeros_link_account_tax(self):
        return {
            xmlid: {
                "heeros_link_vat_category": category,
                "heeros_link_vatex": vatex,
                "heeros_link_vat_reason": reason,
            }
            for xmlid, (category, vatex, reason) in FI_TAX_CODES.items()
        }

    @template("fi", "account.journal")
    def _get_fi_heeros_link_account_journal(self):
        # Finnish creditor reference (viitenumero) built from the invoice number
        return {"sale": {"invoice_reference_model": "fi", "invoice_reference_type": "invoice"}}

    def _heeros_link_apply_fi_defaults(self, companies):
        """Give companies that already use the Finnish chart the same defaults."""
        for company in companies:
            for xmlid, (category, vatex, reason) in FI_TAX_CODES.items():
                tax = self.with_company(company).ref(xmlid, raise_if_not_found=False)
                if tax and not tax.heeros_link_vat_category:
                    tax.write(
                        {
                            "heeros_link_vat_category": category,
                            "heeros_link_vatex": vatex,
                            "heeros_link_vat_reason": reason,
                        }
                    )
            journals = self.env["account.journal"].search(
                [("company_id", "=", company.id), ("type", "=", "sale"), ("invoice_reference_model", "=", "odoo")]
            )
            journals.write({"invoice_reference_model": "fi"})
