from odoo import api, fields, models


class HeerosLinkEinvoiceOperator(models.Model):
    """An e-invoice operator or bank that carries e-invoices (intermediator)."""

    _name = "heeros.link.einvoice.operator"
    _description = "E-invoice operator"
    _order = "kind, sequence, name"
    _rec_names_search = ["name", "code"]

    name = fields.Char(required=True, translate=False)
    code = fields.Char(
        "Operator ID",
        required=True,
        index=True,
        help="The intermediator identifier written to e-invoices: the operator's OVT code "
        "or other code (e.g. 003723327487, E204503) or a bank's BIC (e.g. NDEAFIHH).",
    )
    kind = fields.Selection([("operator", "E-invoice operator"), ("bank", "Bank")], required=True, default="operator")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "An operator ID can be used by one operator only."),
    ]

    @api.depends("name", "code")
    def _compute_display_name(self):
        for operator in self:
            operator.display_name = f"{operator.name} ({operator.code})" if operator.code else operator.name

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("code"):
                vals["code"] = "".join(vals["code"].split()).upper()
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("code"):
            vals["code"] = "".join(vals["code"].split()).upper()
        return super().write(vals)
