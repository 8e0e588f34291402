from odoo import _, api, fields, models
from odoo.addons.heeros_link_base.texts import in_lang
from odoo.exceptions import ValidationError

from .. import identifiers


class ResPartner(models.Model):
    _inherit = "res.partner"

    invoice_sending_method = fields.Selection(selection_add=[("heeros_link", "by Heeros Link")])
    heeros_link_einvoice_address_ids = fields.One2many(
        "heeros.link.einvoice.address", "partner_id", "E-invoice addresses"
    )
    heeros_link_einvoice_address_id = fields.Many2one(
        "heeros.link.einvoice.address", "Default e-invoice address", compute="_compute_heeros_link_einvoice_address_id"
    )
    heeros_link_no_reminders = fields.Boolean(
        "No payment reminders", help="Never send payment reminders to this partner (e.g. a payment plan was agreed)."
    )
    heeros_link_penalty_rate = fields.Float(
        "Agreed penalty interest (%)",
        digits=(5, 3),
        help="Penalty interest agreed with this partner. Empty: the rate of the Interest Act "
        "(reference rate plus the company's margin).",
    )

    @api.depends(
        "heeros_link_einvoice_address_ids.is_default",
        "heeros_link_einvoice_address_ids.active",
        "commercial_partner_id.heeros_link_einvoice_address_ids.is_default",
    )
    def _compute_heeros_link_einvoice_address_id(self):
        for partner in self:
            partner.heeros_link_einvoice_address_id = partner._heeros_link_default_address()

    def _heeros_link_default_address(self):
        """The partner's default e-invoice address, else its commercial partner's."""
        self.ensure_one()
        for partner in (self, self.commercial_partner_id):
            addresses = partner.heeros_link_einvoice_address_ids
            if addresses:
                return addresses.filtered("is_default")[:1] or addresses[:1]
        return self.env["heeros.link.einvoice.address"]

    @api.constrains("company_registry", "country_id")
    def _check_heeros_link_business_id(self):
        for partner in self:
            if (
                partner.company_registry
                and partner.country_id.code == "FI"
                and partner.commercial_partner_id == partner
            ):
                problem = in_lang(identifiers.check_business_id(partner.company_registry), self.env.lang)
                if problem:
                    raise ValidationError(_("%(partner)s: %(problem)s", partner=partner.display_name, problem=problem))
