from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup

from odoo import _, api, models
from odoo.addons.heeros_link_base.formats.errors import LinkFormatError
from odoo.exceptions import UserError

from ..formats import finvoice as fv

CENT = Decimal("0.01")


def _half_year_end(day):
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


def _level_order(level):
    return (level.sequence, level.days_overdue, level.id)


def _money(value, lang_decimal=","):
    return f"{value:,.2f}".replace(",", " ").replace(".", lang_decimal)


class AccountMoveReminders(models.Model):
    """Payment reminders: which invoice gets which level, the Interest Act
    penalty interest, and the sending (Finvoice INV08, else e-mail or paper)."""

    _inherit = "account.move"

    # ------------------------------------------------------------------
    # penalty interest
    # ------------------------------------------------------------------
    def _heeros_link_interest(self, day):
        """Penalty interest on the open amount from the day after the due date
        to ``day`` (inclusive): principal x rate x days / 365, per half-year of
        the Interest Act (each with its reference rate) unless a rate was agreed.

        Returns a dict: ``amount`` (Decimal), ``rate`` (the last rate used),
        ``days``, ``date_from``, ``date_to``, ``text`` (the computation).
        """
        self.ensure_one()
        digits = self.currency_id.decimal_places
        principal = Decimal(f"{self.amount_residual:.{digits}f}")
        due = self.invoice_date_due or self.invoice_date
        start = due + timedelta(days=1)
        result = {"amount": Decimal(0), "rate": 0.0, "days": 0, "date_from": start, "date_to": day, "text": ""}
        if day < start or principal <= 0:
            return result
        segments = []
        agreed = self.heeros_link_penalty_rate
        current = start
        while current <= day:
            end = day if agreed else min(day, _half_year_end(current))
            rate = agreed or self.company_id._heeros_link_legal_penalty_rate(current)
            segments.append((current, end, rate, (end - current).days + 1))
            current = end + timedelta(days=1)
        total = Decimal(0)
        lines = []
        for seg_from, seg_to, rate, days in segments:
            rate_dec = Decimal(str(rate))
            amount = principal * rate_dec / Decimal(100) * Decimal(days) / Decimal(365)
            total += amount
            rate_text = f"{rate:g}".replace(".", ",")
            lines.append(
                _(
                    "%(principal)s x %(rate)s %% x %(days)s / 365 days (%(start)s-%(end)s) = %(amount)s",
                    principal=_money(principal),
                    rate=rate_text,
                    days=days,
                    start=seg_from.strftime("%d.%m.%Y"),
                    end=seg_to.strftime("%d.%m.%Y"),
                    amount=_money(amount.quantize(CENT, ROUND_HALF_UP)),
                )
            )
        result.update(
            {
                "amount": total.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP),
                "rate": segments[-1][2],
                "days": sum(s[3] for s in segments),
                "text": "\n".join(lines),
            }
        )
        return result

    # ------------------------------------------------------------------
    # which invoices get which level
    # ------------------------------------------------------------------
    @api.model
    def _heeros_link_reminder_domain(self, company, day):
        return [
            ("company_id", "=", company.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("amount_residual", ">", 0),
            ("invoice_date_due", "<", day),
            ("heeros_link_disputed", "=", False),
            ("commercial_partner_id.heeros_link_no_reminders", "=", False),
        ]

    @api.model
    def _heeros_link_reminder_plan(self, company, day):
        """One dict per invoice due for its next reminder level on ``day``."""
        levels = company.heeros_link_reminder_level_ids.filtered("active").sorted(_level_order)
        if not levels:
            raise UserError(
                _(
                    "The company %s has no payment reminder levels: add them under Invoicing > "
                    "Configuration > E-invoicing > Reminder levels.",
                    company.name,
                )
            )
        moves = self.search(self._heeros_link_reminder_domain(company, day), order="invoice_date_due, id")
        plan = []
        due_days = company.heeros_link_reminder_due_days or 14
        for move in moves:
            sent = move.heeros_link_reminder_ids
            if sent.filtered(lambda r: r.date == day):
                continue
            last = sent.level_id.sorted(_level_order)[-1:]
            remaining = (
                levels
                if not last
                else levels.browse([level.id for level in levels if _level_order(level) > _level_order(last)])
            )
            remaining -= sent.level_id
            days_overdue = (day - move.invoice_date_due).days
            level = remaining[:1]
            if not level or level.days_overdue > days_overdue:
                continue
            interest = move._heeros_link_interest(day) if level.charge_interest else None
            plan.append(
                {
                    "move": move,
                    "level": level,
                    "days_overdue": days_overdue,
                    "principal": move.amount_residual,
                    "fee": level.fee if move.currency_id == company.currency_id else 0.0,
                    "interest": float(interest["amount"]) if interest else 0.0,
                    "interest_rate": interest["rate"] if interest else 0.0,
                    "interest_days": interest["days"] if interest else 0,
                    "interest_from": interest["date_from"] if interest else False,
                    "interest_to": interest["date_to"] if interest else False,
                    "computation": interest["text"] if interest else "",
                    "channel": move._heeros_link_reminder_channel(),
                    "due_date": day + timedelta(days=due_days),
                }
            )
        return plan

    def _heeros_link_reminder_channel(self):
        self.ensure_one()
        if self.heeros_link_einvoice_address_id.delivery == "finvoice":
            return "finvoice"
        if self.partner_id.email:
            return "email"
        return "print"

    # ------------------------------------------------------------------
    # sending
    # ------------------------------------------------------------------
    @api.model
    def _heeros_link_send_reminders(self, plan, day):
        """Create and send the reminders of ``plan`` (from
        :meth:`_heeros_link_reminder_plan`); one failure does not stop the
        others. Returns the reminders created."""
        Reminder = self.env["heeros.link.reminder"]
        created = Reminder
        builder = self.env["heeros.link.finvoice.builder"]
        state = builder._finvoice_batch()
        for entry in plan:
            move = entry["move"]
            count = len(move.heeros_link_reminder_ids) + 1
            reminder = Reminder.create(
                {
                    "name": f"{move.name}-M{count}",
                    "move_id": move.id,
                    "level_id": entry["level"].id,
                    "date": day,
                    "due_date": entry["due_date"],
                    "days_overdue": entry["days_overdue"],
                    "principal": entry["principal"],
                    "fee": entry["fee"],
                    "interest_rate": entry["interest_rate"],
                    "interest_from": entry["interest_from"],
                    "interest_to": entry["interest_to"],
                    "interest_days": entry["interest_days"],
                    "interest": entry["interest"],
                    "computation": entry["computation"],
                    "channel": entry["channel"],
                    "text": entry["level"].text or "",
                }
            )
            created |= reminder
            reminder._heeros_link_deliver(builder, state)
        created._heeros_link_archive_pdfs()
        return created


class HeerosLinkReminderSend(models.Model):
    _inherit = "heeros.link.reminder"

    def _heeros_link_deliver(self, builder, state):
        self.ensure_one()
        move = self.move_id
        channel_note = ""
        if self.channel == "finvoice":
            invoice = builder._finvoice_reminder(self, state)
            problems = invoice if isinstance(invoice, list) else []
            data = None
            if not problems:
                try:
                    data = fv.build(invoice)
                except LinkFormatError as exc:
                    problems = list(getattr(exc, "errors", []) or [exc.message])
            if problems:
                # the e-invoice cannot be made: fall back to e-mail or paper
                self.channel = "email" if move.partner_id.email else "print"
                channel_note = Markup("%s<ul>%s</ul>") % (
                    _(
                        "The Finvoice reminder could not be built, sent by %s instead:",
                        dict(self._fields["channel"].selection)[self.channel],
                    ),
                    Markup().join(Markup("<li>%s</li>") % p for p in problems),
                )
            else:
                connection = self.env["heeros.link.connection"].sudo()._link_outbound_for(move.company_id)
                if connection and connection.finvoice_soap_frame:
                    data = fv.build_soap_envelope(invoice) + data
                message = (
                    self.env["heeros.link.message"]
                    .sudo()
                    ._link_queue(
                        "finvoice",
                        f"finvoice_reminder_{self.name.replace('/', '_')}.xml",
                        data,
                        move.company_id,
                        connection=connection,
                        records=[move, self],
                        external_ref=self.name,
                    )
                )
                self.message_link_id = message
                if message.state == "error":
                    channel_note = _(
                        "The Link message %(message)s failed: %(error)s", message=message.name, error=message.error
                    )
        if self.channel == "email":
            template = self.env.ref("heeros_link_einvoice.mail_template_reminder", raise_if_not_found=False)
            if template:
                template.send_mail(self.id, force_send=False)
        self._heeros_link_log(channel_note)

    def _heeros_link_reminder_pdfs(self):
        """``{reminder id: PDF bytes}``: the reminders' own report, as the
        customer receives it. One rendering per reminder: a PDF of several
        is split back into its records only by a patched wkhtmltopdf."""
        Report = self.env["ir.actions.report"].sudo()
        pdfs = {}
        for reminder in self:
            streams = Report._render_qweb_pdf_prepare_streams(
                "heeros_link_einvoice.action_report_reminder", {}, res_ids=reminder.ids
            )
            pdfs[reminder.id] = streams[reminder.id]["stream"].getvalue()
        return pdfs

    def _heeros_link_archive_pdfs(self):
        """Archive the PDF of each sent reminder in the Link's electronic
        archive (when that addon is installed), with the reminder's number,
        date, customer and amount to pay, and the Link message of a Finvoice
        reminder."""
        if not self or "heeros.link.archive.entry" not in self.env:
            return None
        Entry = self.env["heeros.link.archive.entry"].sudo()
        pdfs = self._heeros_link_reminder_pdfs()
        documents = []
        for reminder in self:
            documents.append(
                {
                    "company": reminder.company_id,
                    "message": reminder.message_link_id,
                    "data": pdfs[reminder.id],
                    "file_name": f"{reminder.name.replace('/', '_')}.pdf",
                    "mimetype": "application/pdf",
                    "kind": "pdf",
                    "direction": "out",
                    "document_type": "reminder",
                    "record": reminder,
                    "metadata": {
                        "partner_id": reminder.partner_id.id,
                        "document_number": reminder.name,
                        "document_date": reminder.date,
                        "amount": reminder.total,
                        "currency_id": reminder.currency_id.id,
                    },
                }
            )
        return Entry._heeros_link_archive(documents)

    def _heeros_link_log(self, note=""):
        channel = dict(self._fields["channel"].selection)[self.channel]
        currency = self.currency_id
        rate_text = f"{self.interest_rate:g}"
        body = Markup("%s<br/>%s") % (
            _(
                "Payment reminder %(name)s (%(level)s) sent by %(channel)s on %(date)s.",
                name=self.name,
                level=self.level_id.name,
                channel=channel,
                date=self.date.strftime("%d.%m.%Y"),
            ),
            _(
                "Open %(principal)s, fee %(fee)s, penalty interest %(interest)s (%(rate)s %%, %(days)s "
                "days), to pay %(total)s by %(due)s.",
                principal=currency.format(self.principal),
                fee=currency.format(self.fee),
                interest=currency.format(self.interest),
                rate=rate_text,
                days=self.interest_days,
                total=currency.format(self.total),
                due=self.due_date.strftime("%d.%m.%Y") if self.due_date else "",
            ),
        )
        if self.message_link_id:
            body += Markup("<br/>") + _("Link message %s.", self.message_link_id.name)
        if note:
            body += Markup("<br/>") + note
        self.move_id.with_context(no_new_invoice=True).message_post(body=body)
        self.message_post(body=body)
