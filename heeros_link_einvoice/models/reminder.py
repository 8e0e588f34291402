from odoo import api, fields, models

CHANNELS = [
    ("finvoice", "Finvoice e-invoice"),
    ("email", "E-mail"),
    ("print", "Printed letter"),
]


class HeerosLinkReminderLevel(models.Model):
    _name = "heeros.link.reminder.level"
    _description = "Payment reminder level"
    _order = "company_id, sequence, days_overdue, id"

    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    sequence = fields.Integer(default=10, help="Levels are sent in this order, each at most once.")
    name = fields.Char(required=True, translate=True)
    days_overdue = fields.Integer(
        "Days overdue",
        required=True,
        default=14,
        help="The level is sent once the invoice is at least this many days past its due date.",
    )
    fee = fields.Monetary(
        "Reminder fee",
        currency_field="currency_id",
        help="For consumers the Collection Act limits the fee (5 euros per reminder).",
    )
    charge_interest = fields.Boolean("Charge penalty interest", default=True)
    text = fields.Text("Text", translate=True, help="Printed on the reminder and written to the Finvoice as free text.")
    active = fields.Boolean(default=True)


class HeerosLinkReminder(models.Model):
    """One payment reminder sent for an invoice."""

    _name = "heeros.link.reminder"
    _description = "Payment reminder"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True)
    move_id = fields.Many2one(
        "account.move", "Invoice", required=True, index=True, ondelete="cascade", readonly=True, check_company=True
    )
    partner_id = fields.Many2one(related="move_id.commercial_partner_id", store=True)
    company_id = fields.Many2one(related="move_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="move_id.currency_id", store=True)
    level_id = fields.Many2one(
        "heeros.link.reminder.level", "Level", readonly=True, ondelete="restrict", check_company=True
    )
    date = fields.Date(required=True, readonly=True)
    due_date = fields.Date("New due date", readonly=True)
    days_overdue = fields.Integer(readonly=True)
    principal = fields.Monetary("Open amount", readonly=True)
    fee = fields.Monetary("Reminder fee", readonly=True)
    interest_rate = fields.Float("Interest rate (%)", digits=(5, 3), readonly=True)
    interest_from = fields.Date(readonly=True)
    interest_to = fields.Date(readonly=True)
    interest_days = fields.Integer(readonly=True)
    interest = fields.Monetary("Penalty interest", readonly=True)
    computation = fields.Text(readonly=True, help="How the interest was computed.")
    total = fields.Monetary(compute="_compute_total", store=True)
    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    message_link_id = fields.Many2one(
        "heeros.link.message", "Link message", readonly=True, ondelete="set null", check_company=True
    )
    text = fields.Text(readonly=True)

    @api.depends("principal", "fee", "interest")
    def _compute_total(self):
        for reminder in self:
            reminder.total = reminder.principal + reminder.fee + reminder.interest

    def _reference(self):
        return self.move_id.payment_reference or ""
