from odoo import fields, models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    heeros_link_balance_id = fields.Many2one(
        "heeros.link.bank.balance", "Bank balance", compute="_compute_heeros_link_balance", compute_sudo=True
    )
    heeros_link_balance_currency_id = fields.Many2one(
        "res.currency", compute="_compute_heeros_link_balance", compute_sudo=True
    )
    heeros_link_booked_balance = fields.Monetary(
        "Booked balance at the bank",
        compute="_compute_heeros_link_balance",
        compute_sudo=True,
        currency_field="heeros_link_balance_currency_id",
    )
    heeros_link_available_balance = fields.Monetary(
        "Available balance at the bank",
        compute="_compute_heeros_link_balance",
        compute_sudo=True,
        currency_field="heeros_link_balance_currency_id",
    )
    heeros_link_balance_date = fields.Date(
        "Bank balance date", compute="_compute_heeros_link_balance", compute_sudo=True
    )
    heeros_link_available_date = fields.Date(
        "Available balance date", compute="_compute_heeros_link_balance", compute_sudo=True
    )

    def _compute_heeros_link_balance(self):
        balances = (
            self.env["heeros.link.bank.balance"].sudo().search([("journal_id", "in", self.ids)])
            if self.ids
            else self.env["heeros.link.bank.balance"]
        )
        by_journal = {balance.journal_id.id: balance for balance in balances}
        for journal in self:
            balance = by_journal.get(journal.id)
            journal.heeros_link_balance_id = balance
            journal.heeros_link_balance_currency_id = (
                balance.currency_id if balance else (journal.currency_id or journal.company_id.currency_id)
            )
            journal.heeros_link_booked_balance = balance.booked_amount if balance else 0.0
            journal.heeros_link_available_balance = balance.available_amount if balance else 0.0
            journal.heeros_link_balance_date = balance.booked_date if balance else False
            journal.heeros_link_available_date = balance.available_date if balance else False


class AccountJournalPain(models.Model):
    _inherit = "account.journal"

    heeros_link_pain_version = fields.Selection(
        [("09", "pain.001.001.09"), ("03", "pain.001.001.03")],
        "Payment file version",
        default="09",
        help="The pain.001 version the bank of this account accepts; 09 unless the bank still asks for 03.",
    )
    heeros_link_pain_address = fields.Selection(
        [("structured", "Structured"), ("hybrid", "Hybrid (town and country structured)")],
        "Creditor addresses",
        default="structured",
        help="How creditors' postal addresses are written in payment files: fully structured "
        "(street, building, postcode, town, country) or hybrid (town and country structured, "
        "the rest in at most two address lines), as this bank asks.",
    )
