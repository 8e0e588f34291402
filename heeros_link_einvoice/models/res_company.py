from datetime import date

from odoo import _, fields, models
from odoo.exceptions import UserError


class ResCompany(models.Model):
    _inherit = "res.company"

    heeros_link_einvoice_address_ids = fields.One2many(
        related="partner_id.heeros_link_einvoice_address_ids", readonly=False, string="Own e-invoice addresses"
    )
    heeros_link_penalty_margin = fields.Float(
        "Penalty interest margin (points)",
        default=8.0,
        digits=(5, 3),
        help="Percentage points added to the reference rate of the Interest Act: 8 for "
        "commercial contracts (section 4 a), 7 for others (section 4).",
    )
    heeros_link_reminder_level_ids = fields.One2many("heeros.link.reminder.level", "company_id", "Reminder levels")
    heeros_link_reminder_due_days = fields.Integer(
        "Reminders due in (days)", default=14, help="Days between a payment reminder and its new due date."
    )
    heeros_link_send_attachments = fields.Boolean(
        "Send the PDF with Finvoice",
        default=True,
        help="Send the invoice PDF and the invoice's other attachments in a Finvoice "
        "attachment message next to the e-invoice.",
    )

    heeros_link_unconfirmed_days = fields.Integer(
        "Flag undelivered e-invoices after (days)",
        default=5,
        help="An e-invoice sent through an operator that reports deliveries and not confirmed "
        "delivered after this many days is flagged on the Link dashboard.",
    )

    def _heeros_link_own_address(self):
        """The company's default e-invoice address (the seller address)."""
        self.ensure_one()
        return self.partner_id._heeros_link_default_address()

    def _heeros_link_reference_rate(self, day):
        """The Interest Act reference rate for the half-year of ``day``."""
        self.ensure_one()
        start = date(day.year, 1 if day.month <= 6 else 7, 1)
        rate = (
            self.env["heeros.link.reference.rate"]
            .sudo()
            .search([("date_from", "=", start), ("company_id", "in", (False, self.id))], order="company_id", limit=1)
        )
        if not rate:
            raise UserError(
                _(
                    "The reference rate of the Interest Act for the half-year starting %(start)s is "
                    "missing: add it under Invoicing > Configuration > E-invoicing > Reference rates "
                    "(the Bank of Finland publishes it).",
                    start=start.strftime("%d.%m.%Y"),
                )
            )
        return rate.rate

    def _heeros_link_legal_penalty_rate(self, day):
        """Penalty interest of the Interest Act on ``day``: reference rate + margin."""
        return self._heeros_link_reference_rate(day) + self.heeros_link_penalty_margin
