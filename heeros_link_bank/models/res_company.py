from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    heeros_link_payment_two_person = fields.Boolean(
        "Two-person approval of payments",
        help="A payment batch must be approved by someone other than the person who created "
        "it or last changed its payments.",
    )


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    heeros_link_payment_two_person = fields.Boolean(related="company_id.heeros_link_payment_two_person", readonly=False)
