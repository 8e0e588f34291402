from odoo import fields, models

#: UNTDID 5305 VAT categories used by EN 16931 (Finvoice and Peppol).
VAT_CATEGORIES = [
    ("S", "S - Standard rate"),
    ("Z", "Z - Zero rated goods"),
    ("E", "E - Exempt from VAT"),
    ("AE", "AE - Reverse charge"),
    ("K", "K - Intra-community supply"),
    ("G", "G - Export outside the EU"),
    ("O", "O - Not subject to VAT"),
]
#: What the invoice says when no text is set on the tax.
DEFAULT_REASONS = {
    "E": "Veroton myynti (arvonlisäverolaki) / VAT exempt",
    "AE": "Käännetty verovelvollisuus / Reverse charge",
    "K": "Yhteisömyynti, AVL 72 a § / Intra-community supply",
    "G": "Vienti EU:n ulkopuolelle / Export outside the EU",
    "O": "Ei arvonlisäveron alainen / Not subject to VAT",
}


class AccountTax(models.Model):
    _inherit = "account.tax"

    heeros_link_vat_category = fields.Selection(
        VAT_CATEGORIES,
        "E-invoice VAT category",
        help="VAT category written to Finvoice and Peppol invoices (UNTDID 5305). Empty: "
        "S for a non-zero rate; for 0 % it is deduced from the seller's and buyer's countries.",
    )
    heeros_link_vatex = fields.Char(
        "VAT exemption code",
        help="VATEX code explaining a 0 % rate, e.g. VATEX-EU-AE, VATEX-EU-IC, VATEX-EU-G, VATEX-EU-132-1C.",
    )
    heeros_link_vat_reason = fields.Char(
        "VAT exemption text",
        translate=True,
        help="Why no VAT is charged, printed on e-invoices (e.g. 'Käännetty verovelvollisuus, AVL 8 c §').",
    )

    def _heeros_link_vat_codes(self, supplier, customer):
        """``(category, VATEX code, reason text)`` of this tax on an invoice
        from ``supplier`` to ``customer`` (partners)."""
        self.ensure_one()
        category = self.heeros_link_vat_category
        vatex = self.heeros_link_vatex or ""
        reason = self.heeros_link_vat_reason or ""
        if not category:
            if self.amount_type == "percent" and self.amount:
                category = "S"
            else:
                codes = self.env["account.edi.common"]._get_tax_unece_codes(customer, supplier, self)
                category = codes.get("tax_category_code") or "E"
                vatex = vatex or codes.get("tax_exemption_reason_code") or ""
                if category in DEFAULT_REASONS:
                    reason = reason or DEFAULT_REASONS[category]
        elif category in DEFAULT_REASONS and not (reason or vatex):
            reason = DEFAULT_REASONS[category]
        if category in ("S", "Z"):
            vatex, reason = "", ""
        return category, vatex, reason

    def _heeros_link_unece_dict(self, supplier, customer):
        category, vatex, reason = self._heeros_link_vat_codes(supplier, customer)
        return {
            "tax_category_code": category,
            "tax_exemption_reason_code": vatex or None,
            "tax_exemption_reason": reason or None,
        }
