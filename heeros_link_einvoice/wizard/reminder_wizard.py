from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.reminder import CHANNELS


class HeerosLinkReminderWizard(models.TransientModel):
    """Payment reminder run: preview which invoices get which reminder (with
    the fee and the interest computation), then send."""

    _name = "heeros.link.reminder.wizard"
    _description = "Payment reminder run"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    date = fields.Date(required=True, default=fields.Date.context_today)
    line_ids = fields.One2many("heeros.link.reminder.wizard.line", "wizard_id", "Reminders")
    line_count = fields.Integer(compute="_compute_line_count")
    previewed = fields.Boolean()

    @api.depends("line_ids")
    def _compute_line_count(self):
        for wizard in self:
            wizard.line_count = len(wizard.line_ids)

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "new",
            "name": _("Payment reminders"),
        }

    def action_preview(self):
        self.ensure_one()
        plan = (
            self.env["account.move"]
            .with_company(self.company_id)
            ._heeros_link_reminder_plan(self.company_id, self.date)
        )
        self.line_ids = [(5, 0, 0)] + [
            (
                0,
                0,
                {
                    "move_id": entry["move"].id,
                    "level_id": entry["level"].id,
                    "days_overdue": entry["days_overdue"],
                    "principal": entry["principal"],
                    "fee": entry["fee"],
                    "interest_rate": entry["interest_rate"],
                    "interest_days": entry["interest_days"],
                    "interest_from": entry["interest_from"],
                    "interest_to": entry["interest_to"],
                    "interest": entry["interest"],
                    "computation": entry["computation"],
                    "channel": entry["channel"],
                    "due_date": entry["due_date"],
                },
            )
            for entry in plan
        ]
        self.previewed = True
        return self._reopen()

    def action_send(self):
        self.ensure_one()
        if not self.previewed:
            self.action_preview()
        lines = self.line_ids.filtered("send")
        if not lines:
            raise UserError(_("There is no reminder to send."))
        plan = [
            {
                "move": line.move_id,
                "level": line.level_id,
                "days_overdue": line.days_overdue,
                "principal": line.principal,
                "fee": line.fee,
                "interest": line.interest,
                "interest_rate": line.interest_rate,
                "interest_days": line.interest_days,
                "interest_from": line.interest_from,
                "interest_to": line.interest_to,
                "computation": line.computation or "",
                "channel": line.channel,
                "due_date": line.due_date,
            }
            for line in lines
        ]
        reminders = self.env["account.move"].with_company(self.company_id)._heeros_link_send_reminders(plan, self.date)
        return {
            "type": "ir.actions.act_window",
            "res_model": "heeros.link.reminder",
            "name": _("Payment reminders sent"),
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", reminders.ids)],
        }


class HeerosLinkReminderWizardLine(models.TransientModel):
    _name = "heeros.link.reminder.wizard.line"
    _description = "Payment reminder to send"
    _order = "partner_id, move_id"

    wizard_id = fields.Many2one("heeros.link.reminder.wizard", required=True, ondelete="cascade")
    send = fields.Boolean(default=True)
    move_id = fields.Many2one("account.move", "Invoice", required=True, readonly=True)
    partner_id = fields.Many2one(related="move_id.commercial_partner_id", store=True)
    currency_id = fields.Many2one(related="move_id.currency_id")
    level_id = fields.Many2one("heeros.link.reminder.level", "Level", readonly=True)
    days_overdue = fields.Integer(readonly=True)
    principal = fields.Monetary("Open amount", readonly=True)
    fee = fields.Monetary(readonly=True)
    interest_rate = fields.Float("Rate (%)", digits=(5, 3), readonly=True)
    interest_days = fields.Integer("Days", readonly=True)
    interest_from = fields.Date(readonly=True)
    interest_to = fields.Date(readonly=True)
    interest = fields.Monetary("Interest", readonly=True)
    computation = fields.Text(readonly=True)
    total = fields.Monetary(compute="_compute_total")
    channel = fields.Selection(CHANNELS, readonly=True)
    due_date = fields.Date("New due date", readonly=True)

    @api.depends("principal", "fee", "interest")
    def _compute_total(self):
        for line in self:
            line.total = line.principal + line.fee + line.interest
