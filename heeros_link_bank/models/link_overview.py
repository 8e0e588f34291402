"""Bank traffic on the Link overview: stale statement feeds, the last balance
of each account, payment batches waiting for the bank's feedback."""

from datetime import date, timedelta

from odoo import _, api, fields, models
from odoo.tools.misc import formatLang

#: Default number of banking days without a statement after which an
#: account's feed counts as stale.
DEFAULT_STALE_DAYS = 3
STALE_PARAM = "heeros_link.stale_banking_days"
#: Batch states in which the bank's answer is awaited.
WAITING_STATES = ("queued", "sent")


def banking_days_between(start, end):
    """Banking days (Monday to Friday) after ``start`` up to and including ``end``."""
    if not start or end <= start:
        return 0
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=offset)).weekday() < 5:
            count += 1
    return count


class HeerosLinkOverviewBank(models.AbstractModel):
    _inherit = "heeros.link.overview"

    @api.model
    def _link_overview_stale_days(self):
        value = self.env["ir.config_parameter"].sudo().get_param(STALE_PARAM)
        try:
            return max(int(value), 1) if value else DEFAULT_STALE_DAYS
        except ValueError:
            return DEFAULT_STALE_DAYS

    @api.model
    def _link_overview_sections(self, company):
        sections = super()._link_overview_sections(company)
        # each section only for those who may read what it shows
        if self.env["account.journal"].has_access("read") and self.env["account.bank.statement.line"].has_access(
            "read"
        ):
            sections.append(self._link_overview_stale_feeds(company))
        if self.env["heeros.link.bank.balance"].has_access("read"):
            sections.append(self._link_overview_balances(company))
        if self.env["heeros.link.payment.batch"].has_access("read"):
            sections.append(self._link_overview_waiting_batches(company))
        return sections

    @api.model
    def _link_overview_today(self):
        return fields.Date.context_today(self)

    @api.model
    def _link_overview_stale_feeds(self, company):
        """Bank accounts whose last statement is more than N banking days old
        (or that never had one)."""
        limit = self._link_overview_stale_days()
        today = self._link_overview_today()
        journals = self.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank"), ("bank_account_id", "!=", False)],
            order="sequence, name",
        )
        last = dict(
            self.env["account.bank.statement.line"]._read_group(
                [("journal_id", "in", journals.ids)], ["journal_id"], ["date:max"]
            )
        )
        items = []
        for journal in journals:
            last_date = last.get(journal)
            late = banking_days_between(last_date, today) if last_date else None
            if last_date and late <= limit:
                continue
            items.append(
                {
                    "label": journal.display_name,
                    "detail": _(
                        "last statement %(date)s, %(days)s banking days ago",
                        date=fields.Date.to_string(last_date),
                        days=late,
                    )
                    if last_date
                    else _("no statement yet"),
                    "danger": True,
                    "open": {"kind": "statements", "company_id": company.id, "journal_id": journal.id},
                }
            )
        return {
            "key": "stale_feeds",
            "title": _("Statements overdue (more than %s banking days)", limit),
            "empty": _("Every account has a recent statement."),
            "items": items,
        }

    @api.model
    def _link_overview_balances(self, company):
        balances = self.env["heeros.link.bank.balance"].search([("company_id", "=", company.id)])
        items = []
        for balance in balances:
            when = balance.booked_date or balance.available_date
            amount = balance.booked_amount if balance.booked_date else balance.available_amount
            items.append(
                {
                    "label": balance.journal_id.display_name,
                    "detail": _(
                        "%(amount)s on %(date)s",
                        amount=formatLang(self.env, amount, currency_obj=balance.currency_id),
                        date=fields.Date.to_string(when) if isinstance(when, date) else "",
                    ),
                    "danger": amount < 0,
                    "open": {
                        "kind": "record",
                        "company_id": company.id,
                        "model": "heeros.link.bank.balance",
                        "res_id": balance.id,
                    },
                }
            )
        return {
            "key": "balances",
            "title": _("Last balance per account"),
            "empty": _("No balance received yet."),
            "items": items,
        }

    @api.model
    def _link_overview_waiting_batches(self, company):
        batches = self.env["heeros.link.payment.batch"].search(
            [("company_id", "=", company.id), ("state", "in", WAITING_STATES)], order="id desc", limit=20
        )
        state_labels = dict(batches._fields["state"]._description_selection(self.env))
        return {
            "key": "waiting_batches",
            "title": _("Payment batches waiting for the bank's feedback"),
            "empty": _("No payment batch is waiting."),
            "items": [
                {
                    "label": batch.display_name,
                    "detail": _(
                        "%(state)s, %(amount)s",
                        state=state_labels.get(batch.state, batch.state),
                        amount=formatLang(self.env, batch.amount_total, currency_obj=batch.currency_id),
                    ),
                    "danger": False,
                    "open": {
                        "kind": "record",
                        "company_id": company.id,
                        "model": "heeros.link.payment.batch",
                        "res_id": batch.id,
                    },
                }
                for batch in batches
            ],
        }

    @api.model
    def _link_overview_record_models(self):
        return super()._link_overview_record_models() | {"heeros.link.bank.balance", "heeros.link.payment.batch"}

    @api.model
    def _link_overview_open_statements(self, company, target):
        journal = self.env["account.journal"].browse(int(target.get("journal_id") or 0))
        journal = journal.filtered(lambda j: j.company_id == company)
        domain = [("company_id", "=", company.id)]
        if journal:
            domain.append(("journal_id", "=", journal.id))
        action = self.env["ir.actions.act_window"]._for_xml_id("heeros_link_bank.heeros_link_bank_statement_action")
        action.update({"domain": domain, "context": {}})
        return action
