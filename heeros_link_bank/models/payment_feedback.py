"""What the bank says about a sent payment batch, and the debit that ends it.

* pain.002 payment status reports are an inbound Link document type: each
  report is matched to our batch by the original message id, payment
  information ids and end-to-end ids it carries, and updates the state of
  every payment and of the batch. A rejected payment is cancelled (its
  ``account.payment`` cancelled and unreconciled) so that its bill is open
  again, and the batch's responsible person gets an activity with the bank's
  reason in words. A report that matches no batch stays an error naming the
  ids it carried; the same feedback applied twice changes nothing.
* Monitoring: a batch sent and still without feedback after the company's
  waiting time is flagged (refreshed by a scheduled action).
* Reconciliation: when a statement (camt.053/054, TITO) shows the debit of a
  batch, as one entry carrying the batch's message id or payment
  information id, or one entry per payment with its end-to-end id, the
  batch's outstanding payments are reconciled with those statement lines.

The steps are methods of the abstract model ``heeros.link.payment.feedback``
(and ``_inherit`` extensions of the batch, line and bank import models), so
an addon overrides any of them; the state of one report travels between
them as a :class:`FeedbackRun`.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.addons.heeros_link_base.formats.errors import DuplicateDocument, RoutingError
from odoo.addons.heeros_link_base.registry import DocumentType
from odoo.tools import SQL, plaintext2html
from odoo.tools.translate import LazyTranslate

from ..formats import pain002

FEEDBACK_MODEL = "heeros.link.payment.feedback"
_lt = LazyTranslate(__name__)

#: ISO 20022 status codes (ExternalPaymentTransactionStatus1Code) by what
#: they mean for a payment of ours.
ACCEPTED_CODES = frozenset({"ACTC", "ACCP", "ACSP", "ACWC", "ACSC", "ACCC", "ACFC", "ACWP", "ACPD"})
PENDING_CODES = frozenset({"RCVD", "PDNG"})
REJECTED_CODES = frozenset({"RJCT", "CANC"})
PARTIAL_CODES = frozenset({"PART"})
#: How far along a status is: a later report of a lower rank (an ACTC that
#: arrives after the ACSC) does not take a payment back.
RANK = {
    "RCVD": 0,
    "PDNG": 1,
    "ACTC": 2,
    "ACCP": 3,
    "ACWC": 3,
    "ACWP": 3,
    "ACFC": 3,
    "ACPD": 3,
    "ACSP": 4,
    "ACCC": 5,
    "ACSC": 5,
    "CANC": 9,
    "RJCT": 9,
}
#: Batch states feedback may change (a draft or cancelled batch never was sent).
FEEDBACK_BATCH_STATES = ("queued", "sent", "accepted", "partial", "rejected", "done")
#: Line states feedback may change.
FEEDBACK_LINE_STATES = ("sent", "accepted", "rejected", "done")
#: Payment states that count as paid or waiting to be paid by the bank.
OPEN_LINE_STATES = ("sent", "accepted")
#: Most ids named in an error text.
MAX_NAMED = 10


def line_state_of(code):
    """The payment line state an ISO status ``code`` means: ``accepted``,
    ``rejected`` or ``None`` (received or pending: no change)."""
    if code in ACCEPTED_CODES:
        return "accepted"
    if code in REJECTED_CODES:
        return "rejected"
    return None


@dataclass(slots=True)
class Verdict:
    """What a report says about one payment: the ISO status code, the
    reason code and the bank's own words."""

    code: str
    reason_code: str | None = None
    reason_text: str | None = None


@dataclass(eq=False)
class FeedbackRun:
    """What applying one pain.002 (one message) carries from hook to hook."""

    message: object  # heeros.link.message (inbound)
    report: object  # pain002.Report
    file_name: str | None = None
    company: object = None  # res.company the report was routed to
    batches: object = None  # heeros.link.payment.batch matched
    unknown_e2e: list = field(default_factory=list)  # end-to-end ids no line of the batch has
    unknown_infos: list = field(default_factory=list)  # payment information ids no line has
    rejected_line_ids: list = field(default_factory=list)  # lines newly rejected
    changed_line_ids: list = field(default_factory=list)  # lines whose state or status changed
    notes: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def _joined(values):
    values = [v for v in values if v]
    text = ", ".join(values[:MAX_NAMED])
    if len(values) > MAX_NAMED:
        text += _(" and %s more", len(values) - MAX_NAMED)
    return text


def _reasons_of(obj):
    return list(obj.group_reasons if isinstance(obj, pain002.Report) else obj.reasons)


def _first_reason(reasons):
    """``(code, bank text)`` of the first reason of a list of
    ``pain002.Reason``."""
    for reason in reasons:
        code = reason.code
        text = " ".join(part.strip() for part in reason.additional or () if part and part.strip())
        if code or text:
            return code or None, (text or "").strip() or None
    return None, None


class HeerosLinkPaymentFeedback(models.AbstractModel):
    """pain.002 payment status reports applied to payment batches, as hooks
    an addon overrides with ``_inherit``.

    :meth:`_link_handle_pain002` drives one report: :meth:`_link_feedback_read`
    parses it, :meth:`_link_feedback_check_duplicate` refuses a report already
    applied, :meth:`_link_feedback_match` finds the batches (and routes the
    message to their company), :meth:`_link_feedback_verdicts` works out each
    payment's status, ``heeros.link.payment.batch._heeros_link_apply_feedback``
    applies them, :meth:`_link_feedback_report` posts the outcome.
    """

    _name = FEEDBACK_MODEL
    _description = "Link payment status report (pain.002)"

    def _link_handle_pain002(self, message):
        data = message._payload()
        report = self._link_feedback_read(message, data)
        run = FeedbackRun(message=message, report=report, file_name=message.file_name)
        if not message.external_ref:
            message.sudo().external_ref = report.message_id or report.original_message_id
        self._link_feedback_check_duplicate(run)
        batches = self._link_feedback_match(run)
        model = self.with_company(run.company).with_context(allowed_company_ids=[run.company.id])
        batches = batches.with_env(model.env)
        run.batches = batches
        if any(batches.mapped("confidential")):
            # the report names the payees of a salary batch: hidden like the batch
            message.sudo().heeros_link_confidential = True
        verdicts = model._link_feedback_verdicts(run, batches)
        for batch in batches:
            batch._heeros_link_apply_feedback(run, verdicts.get(batch.id, {}))
        model._link_feedback_report(run)
        return batches

    def _link_feedback_read(self, message, data):
        """The :class:`pain002.Report` of ``data`` (typed errors name the
        file and element)."""
        return pain002.parse(data, message.file_name)

    def _link_feedback_check_duplicate(self, run):
        """Raise :class:`DuplicateDocument` when a report with the same id
        (its own ``GrpHdr/MsgId``, the message's external reference) was
        already processed for these companies: the bank sent the same
        feedback again, perhaps in another file."""
        own_id = run.report.message_id
        if not own_id:
            return
        Message = self.env["heeros.link.message"].sudo()
        companies = run.message.company_id | run.message.connection_id.company_ids
        earlier = Message.search(
            [
                ("id", "!=", run.message.id),
                ("direction", "=", "in"),
                ("document_type", "=", "pain.002"),
                ("state", "=", "processed"),
                ("external_ref", "=", own_id),
                ("company_id", "in", companies.ids),
            ],
            limit=1,
            order="id",
        )
        if earlier:
            raise DuplicateDocument(
                _("payment status report %(id)s was already applied by message %(name)s", id=own_id, name=earlier.name),
                file_name=run.file_name,
            )

    def _link_feedback_ids(self, report):
        """``(original message id, payment information ids, end-to-end ids)``
        the report carries."""
        info_ids = [i.payment_info_id for i in report.infos if i.payment_info_id]
        e2e = [t.end_to_end_id for t in self._link_feedback_transactions(report) if t.end_to_end_id]
        return report.original_message_id, info_ids, e2e

    def _link_feedback_transactions(self, report):
        """Every transaction status of the report (those of its payment
        information blocks)."""
        for info in report.infos:
            yield from info.transactions

    def _link_feedback_match(self, run):
        """The batches the report is about, in the company it is routed to
        (sets ``run.company``): by original message id, else by the payment
        information ids, else by the end-to-end ids of their lines, among the
        companies the message's connection serves. Raises
        :class:`RoutingError` naming the ids when none matches."""
        message = run.message
        original, info_ids, e2e = self._link_feedback_ids(run.report)
        companies = message.connection_id.company_ids if message.connection_id else message.company_id
        Batch = self.env["heeros.link.payment.batch"].sudo().with_context(active_test=False)
        Line = self.env["heeros.link.payment.line"].sudo()
        batches = Batch.browse()
        looked_for = []
        if original:
            batches = Batch.search([("pain_message_id", "=", original), ("company_id", "in", companies.ids)])
            looked_for.append(_("original message id %s", original))
        if not batches and info_ids:
            batches = Line.search([("payment_info_id", "in", info_ids), ("company_id", "in", companies.ids)]).batch_id
            looked_for.append(_("payment information ids %s", _joined(info_ids)))
        if not batches and e2e:
            batches = Line.search([("end_to_end_id", "in", e2e), ("company_id", "in", companies.ids)]).batch_id
            looked_for.append(_("end-to-end ids %s", _joined(e2e)))
        if not batches:
            raise RoutingError(
                _(
                    "no payment batch matches this payment status report (%(ids)s): check that the batch "
                    "was sent from this database and the connection serves its company, then reprocess",
                    ids="; ".join(looked_for) or _("the report carries no ids"),
                ),
                file_name=run.file_name,
            )
        run.company = message._link_route(batches.company_id, "; ".join(looked_for))
        return batches.filtered(lambda b: b.company_id == run.company)

    def _link_feedback_verdicts(self, run, batches):
        """``{batch id: {line id: Verdict}}``: the status of each payment of
        ``batches``. The most specific status wins (a transaction's, then its
        payment information block's, then the group's), except that a
        rejected group or block rejects all its payments. Under a partial
        acceptance (PART) the payments the report does not list were
        accepted, when it lists any; with no details at all nothing can be
        said about single payments. One read of the lines for all batches."""
        report = run.report
        group_code = (report.group_status or "").upper() or None
        group_reason = _first_reason(_reasons_of(report))
        infos = {}
        tx_by_e2e = {}
        for info in report.infos:
            if info.payment_info_id:
                infos[info.payment_info_id] = info
        for tx in self._link_feedback_transactions(report):
            if tx.end_to_end_id and tx.status:
                tx_by_e2e[tx.end_to_end_id] = tx
        detailed = bool(tx_by_e2e) or any(i.status for i in infos.values())
        # ten thousand lines: read as rows, not records
        self.env["heeros.link.payment.line"].flush_model(["batch_id", "end_to_end_id", "payment_info_id"])
        self.env.cr.execute(
            SQL(
                "SELECT id, batch_id, end_to_end_id, payment_info_id FROM heeros_link_payment_line "
                "WHERE batch_id = ANY(%s) ORDER BY id",
                batches.ids,
            )
        )
        known_e2e = set()
        known_infos = set()
        result = defaultdict(dict)
        for line_id, batch_id, e2e, info_id in self.env.cr.fetchall():
            known_e2e.add(e2e)
            known_infos.add(info_id)
            verdict = self._link_feedback_line_verdict(
                run, group_code, group_reason, infos.get(info_id), tx_by_e2e.get(e2e), detailed
            )
            if verdict:
                result[batch_id][line_id] = verdict
        run.unknown_e2e = [e for e in tx_by_e2e if e not in known_e2e]
        run.unknown_infos = [i for i in infos if i not in known_infos]
        return result

    def _link_feedback_line_verdict(self, run, group_code, group_reason, info, tx, detailed):
        """The :class:`Verdict` of one payment from the group status
        (``group_code``, ``group_reason``), its payment information block
        ``info`` and transaction status ``tx`` (either may be ``None``);
        ``detailed``: the report gives any block or transaction status.
        ``None`` when the report says nothing about it."""
        info_code = (info.status or "").upper() or None if info else None
        info_reason = _first_reason(_reasons_of(info)) if info else (None, None)
        tx_code = (tx.status or "").upper() or None if tx else None
        tx_reason = _first_reason(_reasons_of(tx)) if tx else (None, None)
        if group_code in REJECTED_CODES:
            reason = (
                tx_reason
                if tx_code in REJECTED_CODES and any(tx_reason)
                else (info_reason if info_code in REJECTED_CODES and any(info_reason) else group_reason)
            )
            return Verdict(group_code, *reason)
        if info_code in REJECTED_CODES:
            reason = tx_reason if tx_code in REJECTED_CODES and any(tx_reason) else info_reason
            return Verdict(info_code, *reason)
        if tx_code and tx_code not in PARTIAL_CODES:
            return Verdict(tx_code, *tx_reason)
        if info_code and info_code not in PARTIAL_CODES:
            return Verdict(info_code, *info_reason)
        if info_code in PARTIAL_CODES:
            return Verdict("ACCP")  # a block partly accepted lists its rejected payments
        if group_code and group_code not in PARTIAL_CODES:
            return Verdict(group_code, *group_reason)
        if group_code in PARTIAL_CODES and detailed:
            return Verdict("ACCP")
        return None

    @api.model
    def _link_reason_words(self, code, lang=None):
        """The bank reason ``code`` in words, in Finnish for a Finnish
        ``lang``, else in English; ``None`` for an unknown code."""
        if not code:
            return None
        known = pain002.REASONS.get(code)
        if not known:
            return None
        return known[1] if (lang or "").startswith("fi") else known[0]

    def _link_feedback_report(self, run):
        """Post the outcome in the message's chatter and keep what the report
        named that no payment has (``run.unknown_*``) as the message's
        warning. Returns nothing."""
        batches = run.batches
        parts = [
            _(
                "Payment status report for %(batches)s: %(changed)s payment(s) updated, %(rejected)s rejected.",
                batches=", ".join(batches.mapped("name")),
                changed=len(run.changed_line_ids),
                rejected=len(run.rejected_line_ids),
            )
        ]
        warnings = []
        if run.unknown_e2e:
            warnings.append(
                _("The report names end-to-end ids no payment of the batch has: %s", _joined(run.unknown_e2e))
            )
        if run.unknown_infos:
            warnings.append(
                _(
                    "The report names payment information ids no payment of the batch has: %s",
                    _joined(run.unknown_infos),
                )
            )
        parts.extend(run.notes)
        parts.extend(warnings)
        if warnings:
            run.message.sudo().bank_warning = "\n".join(warnings)
        run.message.sudo().message_post(body=plaintext2html("\n".join(parts)))


class HeerosLinkPaymentBatchFeedback(models.Model):
    _inherit = "heeros.link.payment.batch"

    feedback_overdue = fields.Boolean(
        "Feedback overdue",
        compute="_compute_feedback_overdue",
        store=True,
        index=True,
        readonly=True,
        help="Sent, and the bank has not answered within the company's waiting time: ask the bank "
        "whether the batch arrived.",
    )
    feedback_due_at = fields.Datetime(
        "Feedback expected by", compute="_compute_feedback_overdue", store=True, readonly=True
    )

    @api.depends("state", "sent_at", "feedback_at", "company_id.heeros_link_feedback_hours")
    def _compute_feedback_overdue(self):
        now = fields.Datetime.now()
        for batch in self:
            hours = batch.company_id.heeros_link_feedback_hours
            waiting = batch.state == "sent" and batch.sent_at and not batch.feedback_at and hours > 0
            batch.feedback_due_at = batch.sent_at + timedelta(hours=hours) if waiting else False
            batch.feedback_overdue = bool(waiting and batch.feedback_due_at <= now)

    @api.model
    def _cron_heeros_link_feedback_overdue(self):
        """Refresh the overdue flag of the batches waiting for feedback, in
        every company (the flag depends on the clock, which no field
        dependency sees). Returns the batches newly flagged."""
        batches = (
            self.sudo()
            .with_context(active_test=False)
            .search(["|", ("feedback_overdue", "=", True), "&", ("state", "=", "sent"), ("feedback_at", "=", False)])
        )
        before = batches.filtered("feedback_overdue")
        fnames = ["feedback_overdue", "feedback_due_at"]
        for fname in fnames:
            self.env.add_to_compute(self._fields[fname], batches)
        batches._recompute_recordset(fnames)
        return batches.filtered("feedback_overdue") - before

    # ------------------------------------------------------------------
    # pain.002 applied
    # ------------------------------------------------------------------
    def _heeros_link_apply_feedback(self, run, verdicts):
        """Apply ``verdicts`` (``{line id: Verdict}``) of the report of
        ``run`` to this batch: the lines (:meth:`_heeros_link_feedback_lines`),
        the rejected payments cancelled
        (``heeros.link.payment.line._heeros_link_cancel_rejected``), the
        batch's state (:meth:`_heeros_link_feedback_batch_state`), its
        outbound message's verdict and an activity for its responsible
        person (:meth:`_heeros_link_feedback_activity`). Writes only what
        changes: the same report twice changes nothing. Returns whether
        anything changed."""
        self.ensure_one()
        if self.state not in FEEDBACK_BATCH_STATES:
            run.notes.append(
                _(
                    "Batch %(name)s is %(state)s: the report was not applied to it.",
                    name=self.name,
                    state=self._fields["state"].convert_to_export(self.state, self),
                )
            )
            return False
        if run.message not in self.heeros_link_message_ids:
            # the bank's answers are listed with the file they answer (the batch's Files)
            self.sudo().write({"heeros_link_message_ids": [Command.link(run.message.id)]})
        changed, rejected = self._heeros_link_feedback_lines(run, verdicts)
        if rejected:
            rejected._heeros_link_cancel_rejected()
        group_code = (run.report.group_status or "").upper() or None
        new_state = self._heeros_link_feedback_batch_state(group_code)
        vals = {}
        if new_state and new_state != self.state:
            vals["state"] = new_state
        feedback_state = group_code or (new_state and new_state.upper())
        if (changed or vals) and feedback_state and self.feedback_state != feedback_state:
            vals["feedback_state"] = feedback_state
        if changed or vals:
            vals["feedback_at"] = fields.Datetime.now()
            self.write(vals)
            self._heeros_link_feedback_outbound(run)
            self._heeros_link_feedback_note(run, changed, rejected)
        if rejected:
            self._heeros_link_feedback_activity(run, rejected)
        return bool(changed or vals)

    def _heeros_link_feedback_lines(self, run, verdicts):
        """Write the verdicts on the batch's lines, grouped so that one query
        updates all lines of the same outcome. A status of a lower rank than
        the one a line has does not take it back; a rejected or reconciled
        (done) payment stays so. Returns ``(changed lines, newly rejected
        lines)``."""
        Line = self.env["heeros.link.payment.line"]
        if not verdicts:
            return Line, Line
        fnames = ["state", "status_code", "reason_code", "reason_text"]
        Line.flush_model(fnames)
        self.env.cr.execute(
            SQL(
                "SELECT id, state, status_code, reason_code, reason_text FROM heeros_link_payment_line "
                "WHERE id = ANY(%s)",
                list(verdicts),
            )
        )
        current = {row[0]: dict(zip(fnames, row[1:])) for row in self.env.cr.fetchall()}
        groups = defaultdict(list)
        rejected = []
        for line_id, verdict in verdicts.items():
            now = current.get(line_id)
            if not now or now["state"] not in FEEDBACK_LINE_STATES:
                continue
            old_code = now["status_code"] or None
            if old_code and RANK.get(verdict.code, 0) < RANK.get(old_code, 0):
                continue
            target = line_state_of(verdict.code)
            state = now["state"]
            if state == "rejected" or (state == "done" and target == "rejected"):
                target = None  # final: a cancelled payment is not revived, a booked one not undone
            elif target == "accepted" and state == "done":
                target = None
            vals = {
                "status_code": verdict.code,
                "reason_code": verdict.reason_code or False,
                "reason_text": verdict.reason_text or False,
            }
            if target and target != state:
                vals["state"] = target
            if all((now.get(k) or False) == v for k, v in vals.items()):
                continue
            groups[tuple(sorted(vals.items()))].append(line_id)
            if vals.get("state") == "rejected":
                rejected.append(line_id)
        changed = []
        for key, ids in groups.items():
            Line.browse(ids).write(dict(key))
            changed.extend(ids)
        run.changed_line_ids.extend(changed)
        run.rejected_line_ids.extend(rejected)
        return Line.browse(changed), Line.browse(rejected)

    def _heeros_link_feedback_batch_state(self, group_code):
        """The batch state its lines now make (``None``: unchanged): rejected
        when all are, partially accepted when some are, accepted when all are
        accepted (a batch already done stays done); a partial group status
        without details makes it partially accepted."""
        self.ensure_one()
        counts = defaultdict(int)
        for state, count in self.env["heeros.link.payment.line"]._read_group(
            [("batch_id", "=", self.id), ("state", "!=", "cancel")], ["state"], ["__count"]
        ):
            counts[state] += count
        rejected = counts["rejected"]
        accepted = counts["accepted"] + counts["done"]
        waiting = counts["sent"] + counts["draft"]
        if rejected and not accepted and not waiting:
            return "rejected"
        if rejected:
            return "partial" if self.state != "done" else None
        if self.state == "done":
            return None
        if accepted and not waiting:
            return "accepted"
        if group_code in PARTIAL_CODES:
            return "partial"
        if self.state == "queued" and (accepted or group_code in PENDING_CODES):
            return "sent"
        return None

    def _heeros_link_feedback_outbound(self, run):
        """Record the bank's verdict on the batch's sent pain.001 messages
        (accepted unless the whole batch was rejected), the report as their
        related message."""
        if self.state not in ("accepted", "partial", "rejected", "done"):
            return
        outbound = self.sudo().heeros_link_message_ids.filtered(lambda m: m.direction == "out" and m.state == "sent")
        if outbound:
            accepted = self.state != "rejected"
            outbound._link_set_feedback(
                accepted,
                text=None if accepted else _("The bank rejected the payment batch %s.", self.name),
                feedback=run.message,
            )

    def _heeros_link_feedback_note(self, run, changed, rejected):
        """Say in the batch's chatter what the report changed: counts and
        the bank's status only, no payee (salary batches too)."""
        self.ensure_one()
        state = self._fields["state"].convert_to_export(self.state, self)
        self.message_post(
            body=plaintext2html(
                _(
                    "Bank status report %(report)s (%(message)s): %(changed)s payment(s) updated, %(rejected)s "
                    "rejected; the batch is %(state)s.",
                    report=run.report.message_id or "-",
                    message=run.message.name,
                    changed=len(changed),
                    rejected=len(rejected),
                    state=state,
                )
            )
        )

    def _heeros_link_feedback_activity(self, run, rejected):
        """A to-do for the batch's responsible person (else whoever approved
        it, else the administrator) naming the rejected payments and the
        bank's reasons in words in that person's language. The names of a
        confidential (salary) batch's payees are left out."""
        self.ensure_one()
        user = self.user_id or self.approved_by_id or self.env.ref("base.user_admin", raise_if_not_found=False)
        if not user:
            return
        lang = user.lang or self.env.lang
        batch = self.with_context(lang=lang)
        batch.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=user.id,
            summary=batch._heeros_link_feedback_activity_summary(),
            note=plaintext2html(batch._heeros_link_feedback_activity_note(rejected)),
        )

    def _heeros_link_feedback_activity_summary(self):
        return _("Payments rejected by the bank")

    def _heeros_link_feedback_activity_note(self, rejected):
        """The text of the activity about the ``rejected`` lines, in the
        language of the environment: each reason (code, words, the bank's
        text) with the payments it concerns."""
        lang = self.env.lang
        Feedback = self.env[FEEDBACK_MODEL]
        by_reason = defaultdict(list)
        for line in rejected:
            words = Feedback._link_reason_words(line.reason_code, lang)
            reason = " - ".join(p for p in (line.reason_code, words, line.reason_text) if p) or _("no reason given")
            who = (
                line.end_to_end_id
                if self.confidential
                else f"{line.creditor_name or line.partner_id.name or '-'} ({line.end_to_end_id})"
            )
            by_reason[reason].append(who)
        rows = [f"{reason}: {', '.join(names)}" for reason, names in by_reason.items()]
        return "\n".join(
            [
                _(
                    "The bank rejected %(count)s payment(s) of batch %(name)s. They were cancelled and their "
                    "bills are open for payment again; correct them and pay them in a new batch.",
                    count=len(rejected),
                    name=self.name,
                ),
                *rows,
            ]
        )


class HeerosLinkPaymentLineFeedback(models.Model):
    _inherit = "heeros.link.payment.line"

    def _heeros_link_cancel_rejected(self):
        """Cancel the payments of these rejected lines, so that their bills
        are open for payment again: a posted payment's entry is unreconciled
        and cancelled. Returns the payments cancelled."""
        payments = self.payment_id.filtered(lambda p: p.state not in ("canceled", "rejected"))
        with_move = payments.filtered("move_id")
        if with_move:
            with_move.move_id.filtered(lambda m: m.state != "cancel").button_cancel()
        (payments - with_move).action_cancel()
        return payments


class AccountJournalFeedback(models.Model):
    _inherit = "account.journal"

    heeros_link_overdue_batch_count = fields.Integer(
        "Batches without feedback",
        compute="_compute_heeros_link_overdue_batch_count",
        help="Payment batches from this account sent to the bank with no status report in time.",
    )

    def _compute_heeros_link_overdue_batch_count(self):
        Batch = self.env["heeros.link.payment.batch"]
        counts = {}
        # the dashboard is every accountant's; only those who see batches get the count
        if Batch.has_access("read"):
            counts = dict(
                Batch._read_group(
                    [("journal_id", "in", self.ids), ("feedback_overdue", "=", True)], ["journal_id"], ["__count"]
                )
            )
        for journal in self:
            journal.heeros_link_overdue_batch_count = counts.get(journal, 0)

    def action_heeros_link_overdue_batches(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "heeros_link_bank.heeros_link_payment_batch_action_feedback_overdue"
        )
        action["domain"] = [("journal_id", "=", self.id)]
        return action


class ResCompanyFeedback(models.Model):
    _inherit = "res.company"

    heeros_link_feedback_hours = fields.Integer(
        "Payment feedback expected within (hours)",
        default=24,
        help="A payment batch sent this long ago without any status report from the bank is flagged "
        "as overdue. 0 turns the check off.",
    )


class ResConfigSettingsFeedback(models.TransientModel):
    _inherit = "res.config.settings"

    heeros_link_feedback_hours = fields.Integer(related="company_id.heeros_link_feedback_hours", readonly=False)


class HeerosLinkMessageFeedback(models.Model):
    _inherit = "heeros.link.message"

    @api.model
    def _link_document_types(self):
        types = super()._link_document_types()
        types["pain.002"] = DocumentType(
            code="pain.002",
            label=_lt("Payment status report (pain.002)"),
            detect=pain002.is_pain002,
            handler=(FEEDBACK_MODEL, "_link_handle_pain002"),
            priority=50,
            direction="in",
        )
        return types


# ----------------------------------------------------------------------
# reconciliation of the batch debit with the statement
# ----------------------------------------------------------------------
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/\-_.:+]{3,}")


class HeerosLinkBankImportBatches(models.AbstractModel):
    _inherit = "heeros.link.bank.import"

    def _link_match_invoices(self, state, journal, rows):
        super()._link_match_invoices(state, journal, rows)
        self._link_match_payment_batches(state, journal, rows)

    def _link_match_payment_batches(self, state, journal, rows):
        """For each outgoing entry of ``rows`` that is the debit of our
        payments, the outstanding payments it books: by the end-to-end ids of
        its payments (one entry per payment, or a batch entry itemising
        them), else by the message id or payment information id of the batch
        entry (``Btch/MsgId``, ``Btch/PmtInfId``, the references or the
        message of the entry). Only when the amounts agree. Keeps
        ``{row: payments}`` in ``state.extra['batch_payments']`` for
        :meth:`_link_reconcile_payment_batches`, sets the partner of a
        single payment's row. One query for all rows."""
        wanted = [r for r in rows if r.amount < 0]
        if not wanted:
            return
        keys = {row: self._link_batch_keys(state, row) for row in wanted}
        e2e = {k for e2es, _ids in keys.values() for k in e2es}
        ids = {k for _e2es, ids in keys.values() for k in ids}
        if not e2e and not ids:
            return
        lines = self._link_batch_lines(state, journal, e2e, ids)
        if not lines:
            return
        by_e2e = {}
        by_id = defaultdict(list)
        for line in lines:
            by_e2e[line["end_to_end_id"]] = line
            for key in (line["pain_message_id"], line["payment_info_id"]):
                if key:
                    by_id[key].append(line)
        found = state.extra.setdefault("batch_payments", {})
        used = state.extra.setdefault("batch_payment_ids", set())
        currency = journal.currency_id or journal.company_id.currency_id
        for row in wanted:
            e2es, ids_ = keys[row]
            groups = []
            if e2es and all(k in by_e2e for k in e2es):
                groups.append([by_e2e[k] for k in e2es])
            groups.extend(by_id[key] for key in ids_ if key in by_id)
            named = None
            for group in groups:
                group = [c for c in group if c["payment_id"] not in used]
                if not group:
                    continue
                named = named or group
                if currency.compare_amounts(sum(c["amount"] for c in group), -float(row.amount)) == 0:
                    found[row] = [c["payment_id"] for c in group]
                    used.update(found[row])
                    partners = {c["partner_id"] for c in group}
                    if len(partners) == 1 and not row.partner_id and None not in partners:
                        row.partner_id = partners.pop()
                    break
            else:
                if named:
                    state.warnings.append(
                        _(
                            "Entry %(archive)s of %(date)s names payment batch %(batch)s, but its amount "
                            "%(amount)s is not that of the batch's open payments (%(total)s): reconcile it "
                            "by hand.",
                            archive=row.entry.archive_id or "-",
                            date=row.date,
                            batch=named[0]["batch_name"],
                            amount=self._link_fmt(-row.amount, currency),
                            total=self._link_fmt(sum(c["amount"] for c in named), currency),
                        )
                    )

    def _link_batch_keys(self, state, row):
        """``(end-to-end ids, batch ids)`` an outgoing ``row`` carries: the
        end-to-end ids of its payment (or of all payments of the entry when
        the row is the entry), and the message id, payment information ids,
        references and words of its message that may be a batch's ids."""
        entry, detail = row.entry, row.detail
        details = [detail] if detail else list(entry.details)
        e2e = [d.end_to_end_id for d in details if d.end_to_end_id]
        if len(e2e) != len(details):
            e2e = []  # a batch entry only some of whose payments are named is matched as a batch
        ids = []
        # the most specific first: a payment information block before the whole file
        for value in (
            entry.batch_payment_info_id,
            *(d.payment_info_id for d in details),
            entry.batch_message_id,
            *(d.message_id for d in details),
            entry.entry_reference,
            entry.archive_id,
            *(d.archive_id for d in details),
        ):
            if value and value not in ids:
                ids.append(value)
        for text in (
            entry.additional_info,
            *(d.remittance_info for d in details),
            *(d.additional_remittance_info for d in details),
        ):
            for token in _TOKEN.findall(text or ""):
                if token not in ids:
                    ids.append(token)
        return e2e, ids

    def _link_batch_lines(self, state, journal, e2e, ids):
        """The open payments of the journal's sent batches whose end-to-end
        id is in ``e2e`` or whose batch message id or payment information id
        is in ``ids``: dicts with the line's ids, amount, partner, payment
        and batch. One query."""
        for model in ("heeros.link.payment.line", "heeros.link.payment.batch", "account.payment"):
            self.env[model].flush_model()
        self.env.cr.execute(
            SQL(
                """
            SELECT l.id, l.end_to_end_id, l.payment_info_id, l.amount, l.partner_id, l.payment_id,
                   b.pain_message_id, b.name AS batch_name
              FROM heeros_link_payment_line l
              JOIN heeros_link_payment_batch b ON b.id = l.batch_id
              JOIN account_payment p ON p.id = l.payment_id
             WHERE b.company_id = %(company)s AND b.journal_id = %(journal)s
               AND l.state = ANY(%(states)s) AND p.state IN ('in_process', 'paid')
               AND NOT COALESCE(p.is_matched, FALSE)
               AND (l.end_to_end_id = ANY(%(e2e)s) OR b.pain_message_id = ANY(%(ids)s)
                    OR l.payment_info_id = ANY(%(ids)s))
          ORDER BY l.id""",
                company=journal.company_id.id,
                journal=journal.id,
                states=list(OPEN_LINE_STATES),
                e2e=list(e2e),
                ids=list(ids),
            )
        )
        return self.env.cr.dictfetchall()

    def _link_batch_outstanding_items(self, state, payments):
        """The journal items the statement line of ``payments`` is reconciled
        with: the payments' open items in their outstanding account; for a
        payment made without a journal entry (a journal without an
        outstanding payments account), the open payable items of its bills."""
        items = self.env["account.move.line"]
        for payment in payments:
            if payment.move_id:
                items |= payment.move_id.line_ids.filtered(
                    lambda aml, p=payment: aml.account_id == p.outstanding_account_id and not aml.reconciled
                )
            else:
                items |= payment.invoice_ids.line_ids.filtered(
                    lambda aml: aml.account_id.account_type == "liability_payable" and not aml.reconciled
                )
        return items

    def _link_reconcile(self, state, lines, rows):
        super()._link_reconcile(state, lines, rows)
        self._link_reconcile_payment_batches(state, lines, rows)

    def _link_reconcile_payment_batches(self, state, lines, rows):
        """Reconcile each new statement line whose row found batch payments
        (:meth:`_link_match_payment_batches`) with those payments'
        outstanding items, in one plan; the payment lines become done and a
        batch whose payments all are, done. Returns nothing."""
        found = state.extra.get("batch_payments")
        if not found:
            return
        Payment = self.env["account.payment"]
        plan = []
        paid = Payment
        for line, row in zip(lines, rows):
            payment_ids = found.pop(row, None)
            if not payment_ids:
                continue
            payments = Payment.browse(payment_ids)
            outstanding = self._link_batch_outstanding_items(state, payments)
            if not outstanding:
                continue
            _liquidity, suspense, _other = line._seek_for_lines()
            partners = outstanding.partner_id
            suspense.write(
                {"account_id": outstanding[0].account_id.id, "partner_id": partners.id if len(partners) == 1 else False}
            )
            plan.append(suspense | outstanding)
            paid |= payments
        if not plan:
            return
        self.env["account.move.line"]._reconcile_plan(plan)
        PaymentLine = self.env["heeros.link.payment.line"]
        done = PaymentLine.search([("payment_id", "in", paid.ids), ("state", "in", OPEN_LINE_STATES)])
        done.write({"state": "done"})
        for batch in done.batch_id:
            open_lines = batch.line_ids.filtered(lambda pl: pl.state in ("draft", "sent", "accepted"))
            if not open_lines and batch.state in ("sent", "accepted", "partial"):
                batch.state = "done"
        state.notes.append(
            _(
                "%(count)s payment(s) of batches %(names)s reconciled with the statement.",
                count=len(done),
                names=", ".join(done.batch_id.mapped("name")),
            )
        )
