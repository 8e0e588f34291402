from datetime import UTC, datetime, time

from odoo import api, fields, models


def _moment(balance):
    """A naive UTC datetime ordering balances: the bank's timestamp when it
    gives one, else the end of the balance's day."""
    if balance.timestamp:
        stamp = balance.timestamp
        if stamp.tzinfo:
            stamp = stamp.astimezone(UTC).replace(tzinfo=None)
        return stamp
    if balance.date:
        return datetime.combine(balance.date, time(23, 59, 59))
    return None


class HeerosLinkBankBalance(models.Model):
    _name = "heeros.link.bank.balance"
    _description = "Latest bank account balance"
    _order = "company_id, journal_id"
    _check_company_auto = True
    _rec_name = "journal_id"

    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        check_company=True,
        domain=[("type", "=", "bank")],
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    iban = fields.Char("IBAN", readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    booked_amount = fields.Monetary("Booked balance", readonly=True)
    booked_date = fields.Date("Booked on", readonly=True)
    booked_at = fields.Datetime("Booked balance time", readonly=True)
    available_amount = fields.Monetary("Available balance", readonly=True)
    available_date = fields.Date("Available on", readonly=True)
    available_at = fields.Datetime("Available balance time", readonly=True)
    credit_line = fields.Monetary("Credit limit", readonly=True)
    message_id = fields.Many2one(
        "heeros.link.message", "From message", readonly=True, check_company=True, ondelete="set null"
    )
    source = fields.Char("From document type", readonly=True)

    _sql_constraints = [
        ("journal_uniq", "unique(journal_id)", "A bank journal has one latest balance."),
    ]

    @api.model
    def _link_update(self, journal, statement, kind, message=None):
        """Record the balances a statement or account report gives for
        ``journal`` when they are newer than the ones known; which balances
        count is the format's (``kind``) description (its booked and
        available balance codes, see ``_link_bank_formats``). Returns the
        balance record, or an empty recordset when the document has none."""
        described = self.env["heeros.link.bank.import"]._link_bank_formats().get(kind)
        if described is None:
            return self.browse()
        booked = described.booked_balance(statement)
        available = described.available_balance(statement)
        if not booked and not available:
            return self.browse()
        record = self.sudo().search([("journal_id", "=", journal.id)], limit=1)
        vals = {}
        for prefix, balance in (("booked", booked), ("available", available)):
            if not balance:
                continue
            moment = _moment(balance)
            known = record[f"{prefix}_at"] if record else None
            if known and moment and moment < known:
                continue  # an older file: keep the newer balance
            vals.update(
                {
                    f"{prefix}_amount": float(balance.amount),
                    f"{prefix}_date": balance.date or (moment.date() if moment else False),
                    f"{prefix}_at": moment or False,
                }
            )
            if prefix == "available" and balance.credit_line is not None:
                vals["credit_line"] = float(balance.credit_line)
        if not vals:
            return record
        vals.update({"message_id": message.id if message else False, "source": kind})
        if record:
            record.write(vals)
            return record
        return self.sudo().create(
            dict(
                vals,
                journal_id=journal.id,
                company_id=journal.company_id.id,
                iban=journal.bank_account_id.sanitized_acc_number or False,
                currency_id=(journal.currency_id or journal.company_id.currency_id).id,
            )
        )
