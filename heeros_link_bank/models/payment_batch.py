"""Payment batches: vendor bills, expense reports and salaries paid out
through the Link as one ISO 20022 pain.001 file.

The batch maps records to the pure ``formats.pain001`` dataclasses; every
step (checks, grouping, building, paying, queueing) is a named method an
addon can override.
"""

import logging
import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal

from stdnum import iban as stdnum_iban

from odoo import Command, _, api, fields, models
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import LinkFormatError
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..formats import pain001

_logger = logging.getLogger(__name__)

KINDS = [
    ("supplier", "Supplier invoices"),
    ("expense", "Travel expenses and fees"),
    ("salary", "Salaries"),
    ("urgent", "Urgent payments"),
    ("foreign", "Foreign payments"),
]
STATES = [
    ("draft", "Draft"),
    ("approved", "Approved"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("accepted", "Accepted"),
    ("partial", "Partially accepted"),
    ("rejected", "Rejected"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
]
PAIN_VERSIONS = [("09", "pain.001.001.09"), ("03", "pain.001.001.03")]
ADDRESS_MODES = [("structured", "Structured"), ("hybrid", "Hybrid (town and country structured)")]
#: Fields whose change after approval sends a batch back to draft.
MATERIAL_FIELDS = frozenset(
    {
        "journal_id",
        "connection_id",
        "kind",
        "execution_date",
        "pain_version",
        "address_mode",
        "batch_booking",
        "line_ids",
        "currency_id",
        "company_id",
    }
)

#: Characters the Finnish banks take in names and texts of payments.
_BANK_CHARS = re.compile(r"[^A-Za-z0-9ÅÄÖåäö/\-?:().,'+ ]")
_STREET_RE = re.compile(r"^(?P<name>.*?)\s+(?P<number>\d+\s*[A-Za-z]?(?:[\s-]\d+[A-Za-z]?)*(?:\s+[A-Za-z]\s*\d*)?)$")


def bank_text(value, maximum):
    """``value`` with accents removed from letters outside Finnish and
    Swedish, other characters replaced by spaces, cut to ``maximum``."""
    text = str(value or "")
    kept = []
    for char in text:
        if char in "ÅÄÖåäö":
            kept.append(char)
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        kept.append("".join(c for c in decomposed if not unicodedata.combining(c)) or " ")
    text = _BANK_CHARS.sub(" ", "".join(kept).replace("&", "+").replace("ß", "ss"))
    return " ".join(text.split())[:maximum].strip()


def split_street(street):
    """``('Kauppakatu', '5 B 12')`` from ``'Kauppakatu 5 B 12'``; the
    number part is empty when there is none."""
    street = (street or "").strip()
    match = _STREET_RE.match(street)
    if match and match.group("name"):
        return match.group("name").strip(), match.group("number").strip()
    return street, ""


class HeerosLinkPaymentBatch(models.Model):
    _name = "heeros.link.payment.batch"
    _description = "Payment batch"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, default="/", copy=False, index="trigram")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    journal_id = fields.Many2one(
        "account.journal",
        "Pay from",
        required=True,
        check_company=True,
        tracking=True,
        domain="[('type', '=', 'bank')]",
        help="The bank journal whose account the payments are debited from.",
    )
    connection_id = fields.Many2one(
        "heeros.link.connection",
        "Bank connection",
        check_company=False,
        tracking=True,
        default=lambda self: self.env["heeros.link.connection"]._link_outbound_for(self.env.company),
        help="The Link connection that sends the payment file to the bank.",
    )
    kind = fields.Selection(KINDS, required=True, default="supplier", tracking=True)
    execution_date = fields.Date(
        "Requested execution date", required=True, default=fields.Date.context_today, tracking=True
    )
    pain_version = fields.Selection(
        PAIN_VERSIONS,
        "pain.001 version",
        required=True,
        compute="_compute_journal_defaults",
        store=True,
        readonly=False,
        precompute=True,
    )
    address_mode = fields.Selection(
        ADDRESS_MODES,
        "Addresses",
        required=True,
        compute="_compute_journal_defaults",
        store=True,
        readonly=False,
        precompute=True,
    )
    batch_booking = fields.Boolean(
        "Batch booking",
        default=True,
        help="One debit on the bank statement for each group of payments instead of one per "
        "payment. Salaries are always booked as one debit.",
    )
    state = fields.Selection(
        STATES, required=True, default="draft", readonly=True, index=True, tracking=True, copy=False
    )
    line_ids = fields.One2many("heeros.link.payment.line", "batch_id", "Payments", copy=False)
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
        help="Currency of the batch total; lines may be in other currencies for foreign payments.",
    )
    amount_total = fields.Monetary("Total", compute="_compute_totals", store=True)
    line_count = fields.Integer("Number of payments", compute="_compute_totals", store=True)
    user_id = fields.Many2one("res.users", "Responsible", default=lambda self: self.env.user, tracking=True)
    approved_by_id = fields.Many2one("res.users", "Approved by", readonly=True, copy=False)
    approved_at = fields.Datetime("Approved on", readonly=True, copy=False)
    last_change_uid = fields.Many2one(
        "res.users",
        "Last changed by",
        readonly=True,
        copy=False,
        default=lambda self: self.env.user,
        help="Who created the batch or last changed its payments or amounts.",
    )
    confidential = fields.Boolean(
        compute="_compute_confidential",
        store=True,
        readonly=True,
        index=True,
        help="Salary batches are visible only to the Salary payments group.",
    )
    pain_message_id = fields.Char(
        "Payment file id",
        readonly=True,
        copy=False,
        index=True,
        help="The message id (GrpHdr/MsgId) of the pain.001 sent.",
    )
    heeros_link_message_ids = fields.Many2many(
        "heeros.link.message",
        "heeros_link_payment_batch_message_rel",
        "batch_id",
        "message_id",
        string="Link messages",
        readonly=True,
        copy=False,
    )
    heeros_link_message_count = fields.Integer(compute="_compute_heeros_link_message_count")
    sent_at = fields.Datetime("Sent on", readonly=True, copy=False)
    feedback_at = fields.Datetime("Feedback on", readonly=True, copy=False)
    feedback_state = fields.Char("Bank status", readonly=True, copy=False)
    source = fields.Selection(
        [("odoo", "Built by the Link"), ("payroll_file", "Payroll system's file")],
        required=True,
        default="odoo",
        readonly=True,
    )
    payroll_attachment_id = fields.Many2one(
        "ir.attachment",
        "Payroll file",
        readonly=True,
        copy=False,
        check_company=True,
        help="The payroll system's pain.001, sent on unchanged.",
    )
    note = fields.Text()

    _sql_constraints = [
        ("pain_message_id_uniq", "unique(company_id, pain_message_id)", "A payment file id is used once per company."),
    ]

    # ------------------------------------------------------------------
    # computes and basics
    # ------------------------------------------------------------------
    @api.depends("journal_id")
    def _compute_journal_defaults(self):
        for batch in self:
            journal = batch.journal_id
            batch.pain_version = (journal.heeros_link_pain_version if journal else False) or batch.pain_version or "09"
            batch.address_mode = (
                (journal.heeros_link_pain_address if journal else False) or batch.address_mode or "structured"
            )

    @api.depends("line_ids.amount", "line_ids.state")
    def _compute_totals(self):
        for batch in self:
            lines = batch.line_ids.filtered(lambda line: line.state != "cancel")
            batch.amount_total = sum(lines.mapped("amount"))
            batch.line_count = len(lines)

    @api.depends("kind")
    def _compute_confidential(self):
        for batch in self:
            batch.confidential = batch.kind == "salary"

    def _compute_heeros_link_message_count(self):
        for batch in self:
            batch.heeros_link_message_count = len(batch.heeros_link_message_ids)

    @api.constrains("kind", "batch_booking")
    def _check_salary_booking(self):
        for batch in self:
            if batch.kind == "salary" and not batch.batch_booking:
                raise ValidationError(_("Salaries are always booked as one debit (batch %s).", batch.name))

    @api.constrains("connection_id", "company_id")
    def _check_connection_company(self):
        for batch in self:
            if batch.connection_id and batch.company_id not in batch.connection_id.sudo().company_ids:
                raise ValidationError(
                    _(
                        "Connection %(conn)s does not serve %(company)s.",
                        conn=batch.connection_id.name,
                        company=batch.company_id.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("kind") == "salary":
                vals["batch_booking"] = True
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["name"] = (
                    self.env["ir.sequence"].with_company(company).sudo().next_by_code("heeros.link.payment.batch")
                    or "/"
                )
            vals["last_change_uid"] = self.env.uid
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("kind") == "salary":
            vals["batch_booking"] = True
        if MATERIAL_FIELDS & set(vals):
            self._heeros_link_changed()
        return super().write(vals)

    def _heeros_link_changed(self):
        """Payments or amounts of these batches change: record who did it and
        send approved batches back to draft."""
        editable = self.filtered(lambda b: b.state in ("draft", "approved"))
        if self - editable:
            raise UserError(
                _(
                    "Batch %s has been queued or sent: it can no longer be changed.",
                    ", ".join((self - editable).mapped("name")),
                )
            )
        approved = editable.filtered(lambda b: b.state == "approved")
        vals = {"last_change_uid": self.env.uid}
        if approved:
            super(HeerosLinkPaymentBatch, approved).write(
                dict(vals, state="draft", approved_by_id=False, approved_at=False)
            )
            for batch in approved:
                batch.message_post(body=_("Changed after approval: back to draft, to be approved again."))
        if editable - approved:
            super(HeerosLinkPaymentBatch, editable - approved).write(vals)

    def unlink(self):
        if any(batch.state not in ("draft", "cancel") for batch in self):
            raise UserError(_("Only draft or cancelled payment batches can be deleted."))
        return super().unlink()

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_approve(self):
        for batch in self:
            if batch.state != "draft":
                raise UserError(_("Batch %s is not a draft: only drafts are approved.", batch.name))
            batch._heeros_link_check_approver()
            batch._heeros_link_raise_problems(batch._heeros_link_check_lines())
            super(HeerosLinkPaymentBatch, batch).write(
                {"state": "approved", "approved_by_id": self.env.uid, "approved_at": fields.Datetime.now()}
            )
            batch.message_post(body=_("Approved by %s.", self.env.user.name))
        return True

    def _heeros_link_check_approver(self):
        """The optional two-person rule of the batch's company."""
        self.ensure_one()
        if not self.company_id.heeros_link_payment_two_person:
            return
        if self.env.uid in (self.create_uid.id, self.last_change_uid.id):
            raise UserError(
                _(
                    "%(company)s requires a second person to approve payments: %(user)s created or last "
                    "changed batch %(batch)s and cannot approve it.",
                    company=self.company_id.name,
                    user=self.env.user.name,
                    batch=self.name,
                )
            )

    def action_back_to_draft(self):
        for batch in self:
            if batch.state not in ("approved", "cancel"):
                raise UserError(_("Batch %s can go back to draft only when approved or cancelled.", batch.name))
        cancelled = self.line_ids.filtered(lambda line: line.state == "cancel")
        self.env["heeros.link.payment.line"]._heeros_link_check_bills_free(cancelled.move_id.ids, exclude=cancelled.ids)
        super().write(
            {"state": "draft", "approved_by_id": False, "approved_at": False, "last_change_uid": self.env.uid}
        )
        cancelled.write({"state": "draft"})
        return True

    def action_cancel(self):
        for batch in self:
            if batch.state not in ("draft", "approved"):
                raise UserError(
                    _("Batch %s has been sent: the bank's feedback decides what happens to it.", batch.name)
                )
        self.line_ids.write({"state": "cancel"})
        super().write({"state": "cancel"})
        return True

    def action_send(self):
        for batch in self:
            if batch.state != "approved":
                raise UserError(_("Batch %s must be approved before it is sent.", batch.name))
            batch._heeros_link_send()
        return True

    def _heeros_link_send(self):
        """Check, build and validate the file, pay the bills and queue the
        file: nothing leaves (and nothing is paid) when a check or the schema
        fails, because every step runs in the same transaction."""
        self.ensure_one()
        if not self.connection_id:
            raise UserError(_("Batch %s has no bank connection: choose the connection that sends it.", self.name))
        if self.source == "payroll_file":
            data, file_name = self._heeros_link_payroll_payload()
        else:
            self._heeros_link_raise_problems(self._heeros_link_check_lines())
            document = self._heeros_link_build_document()
            data = self._heeros_link_build_file(document)
            file_name = self._heeros_link_file_name(document)
            self._heeros_link_create_payments()
        message = self._heeros_link_queue_message(data, file_name)
        lines = self.line_ids.filtered(lambda line: line.state == "draft")
        super().write({"state": "queued"})
        if self.confidential:
            body = _(
                "Salary file %(file)s queued for sending as Link message %(message)s.",
                file=file_name,
                message=message.name,
            )
        else:
            body = _(
                "Payment file %(file)s with %(count)s payments queued for sending as Link message %(message)s.",
                file=file_name,
                count=len(lines),
                message=message.name,
            )
        self.message_post(body=body)
        return message

    # ------------------------------------------------------------------
    # building the pain.001 document (records -> formats.pain001 data)
    # ------------------------------------------------------------------
    def _heeros_link_message_id(self):
        """GrpHdr/MsgId: the batch's reference without separators and its id
        (unique per company, at most 35 characters)."""
        self.ensure_one()
        return f"{re.sub(r'[^A-Za-z0-9]', '', self.name)}-{self.id}"[:35]

    def _heeros_link_bank_text(self, value, maximum):
        """A name or text in the characters Finnish banks accept, cut to the
        schema's length: Latin letters (Finnish and Swedish ones kept), digits
        and the SEPA punctuation; other accented letters lose their accents."""
        return bank_text(value, maximum)

    def _heeros_link_initiating_party(self):
        self.ensure_one()
        company = self.company_id
        org_id = re.sub(r"[^0-9A-Za-z-]", "", company.company_registry or "") or False
        return pain001.Party(name=self._heeros_link_bank_text(company.name, 70), org_id=org_id or None)

    def _heeros_link_debtor(self):
        self.ensure_one()
        journal = self.journal_id
        account = journal.bank_account_id
        if not account or not account.sanitized_acc_number:
            raise UserError(_("Journal %s has no bank account number: fill in the IBAN to pay from.", journal.name))
        bic = account.bank_id.bic or journal.bank_id.bic
        if not bic:
            raise UserError(_("The bank of journal %s has no BIC: fill in the bank and its BIC.", journal.name))
        return pain001.Party(
            name=self._heeros_link_bank_text(self.company_id.name, 70),
            iban=account.sanitized_acc_number,
            bic=bic.replace(" ", "").upper(),
            address=self._heeros_link_address(self.company_id.partner_id),
        )

    def _heeros_link_address(self, partner, country=None):
        """The postal address of ``partner`` as the journal asks: structured
        (street, building, postcode, town, country) or hybrid (town and
        country structured, street and building in one address line)."""
        country_code = (country or partner.country_id).code or None
        street = " ".join(filter(None, [(partner.street or "").strip(), (partner.street2 or "").strip()]))
        town = self._heeros_link_bank_text(partner.city, 35) or None
        if not (street or town or country_code):
            return None
        if self.address_mode == "hybrid":
            lines = tuple(
                filter(None, [self._heeros_link_bank_text(street, 70), self._heeros_link_bank_text(partner.zip, 16)])
            )
            return pain001.Address(town=town, country=country_code, lines=lines[:2])
        name, building = split_street(street)
        return pain001.Address(
            street=self._heeros_link_bank_text(name, 70) or None,
            building=self._heeros_link_bank_text(building, 16) or None,
            postcode=self._heeros_link_bank_text(partner.zip, 16) or None,
            town=town,
            country=country_code,
        )

    def _heeros_link_creditor(self, line):
        iban = stdnum_iban.compact(line.iban or "")
        is_iban = stdnum_iban.is_valid(iban)
        address = None
        if line._heeros_link_address_required() or self.address_mode == "hybrid" or line.partner_id:
            address = self._heeros_link_address(line.partner_id, line.country_id) if line.partner_id else None
        return pain001.Party(
            name=self._heeros_link_bank_text(line.creditor_name, 70),
            iban=iban if is_iban else None,
            other_account=None if is_iban else iban,
            bic=(line.bic or "").replace(" ", "").upper() or None,
            address=address,
        )

    def _heeros_link_payment(self, line):
        """The :class:`pain001.Payment` of one line."""
        return pain001.Payment(
            end_to_end_id=line.end_to_end_id,
            amount=Decimal(str(line.currency_id.round(line.amount))),
            currency=line.currency_id.name,
            creditor=self._heeros_link_creditor(line),
            reference=fi_reference.compact(line.reference) if line.reference else None,
            message=None if line.reference else (self._heeros_link_bank_text(line.message, 140) or None),
            purpose="SALA" if self.kind == "salary" else None,
        )

    def _heeros_link_payment_info_key(self, line):
        """What puts lines into the same payment information (PmtInf): the
        debtor account and execution date are the batch's; service level,
        category purpose and charge bearer follow the line."""
        if self.kind == "urgent":
            level = "URGP"
        elif self.kind == "foreign" or not line._heeros_link_is_sepa():
            level = None
        else:
            level = "SEPA"
        bearer = "SLEV" if level == "SEPA" else "SHAR"
        return (level, "SALA" if self.kind == "salary" else None, bearer)

    def _heeros_link_build_document(self):
        """The :class:`pain001.Document` of this batch; writes each line's
        payment information id."""
        self.ensure_one()
        debtor = self._heeros_link_debtor()
        groups = {}
        for line in self.line_ids.filtered(lambda line: line.state == "draft").sorted(lambda x: (x.sequence, x.id)):
            groups.setdefault(self._heeros_link_payment_info_key(line), []).append(line)
        message_id = self._heeros_link_message_id()
        infos = []
        for number, ((level, purpose, bearer), lines) in enumerate(groups.items(), 1):
            info_id = f"{message_id[:31]}-{number}"
            infos.append(
                pain001.PaymentInfo(
                    payment_info_id=info_id,
                    execution_date=self.execution_date,
                    debtor=debtor,
                    payments=[self._heeros_link_payment(line) for line in lines],
                    service_level=level,
                    category_purpose=purpose,
                    urgent=level == "URGP",
                    charge_bearer=bearer,
                    batch_booking=self.batch_booking or self.kind == "salary",
                )
            )
            self._heeros_link_set_payment_info(lines, info_id)
        super().write({"pain_message_id": message_id})
        return pain001.Document(
            message_id=message_id,
            created=datetime.now(UTC).replace(microsecond=0),
            initiating_party=self._heeros_link_initiating_party(),
            infos=infos,
            version=self.pain_version,
        )

    def _heeros_link_set_payment_info(self, lines, info_id):
        ids = [line.id for line in lines]
        self.env["heeros.link.payment.line"].browse(ids).flush_recordset()
        self.env.cr.execute(
            "UPDATE heeros_link_payment_line SET payment_info_id = %s WHERE id = ANY(%s)", [info_id, ids]
        )
        self.env["heeros.link.payment.line"].browse(ids).invalidate_recordset(["payment_info_id"])

    def _heeros_link_build_file(self, document):
        """pain.001 bytes, valid against the official schema of their version,
        or a UserError that names the payment and what is wrong."""
        self.ensure_one()
        try:
            data = pain001.build(document)
            pain001.validate(data, self._heeros_link_file_name(document))
        except LinkFormatError as exc:
            raise UserError(
                _(
                    "Batch %(batch)s: the payment file cannot be made: %(error)s",
                    batch=self.name,
                    error=self._heeros_link_explain(exc),
                )
            ) from None
        return data

    def _heeros_link_explain(self, exc):
        """The format error in words, with the bill and creditor of the
        payment it names (its end-to-end id)."""
        text = str(exc)
        for line in self.line_ids:
            if line.end_to_end_id and line.end_to_end_id in text:
                return f"{line._heeros_link_label()}: {text}"
        return text

    def _heeros_link_file_name(self, document):
        return f"pain001_{document.version}_{document.message_id}.xml"

    # ------------------------------------------------------------------
    # paying and queueing
    # ------------------------------------------------------------------
    def _heeros_link_create_payments(self):
        """Odoo payments of the lines that pay bills or expense reports, in the
        journal's outstanding payments account, reconciled with them (the
        bills show "in payment" until the bank statement shows the debit).

        The first payment is made by Odoo's own flow (create, post,
        reconcile); when the others are alike (whole bills in the company's
        currency, a journal without hashed entries),
        :meth:`_heeros_link_clone_payments` writes them in a few statements
        after its model. Otherwise they go through the same flow as the first,
        all at once."""
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: line.state == "draft" and line.move_id and not line.payment_id)
        if not lines:
            return self.env["account.payment"]
        method = self._heeros_link_payment_method()
        payables = self._heeros_link_open_payables(lines)
        lines = lines.sorted(lambda line: (line.amount == 1, line.sequence, line.id))
        if not self._heeros_link_bulk_payable(lines, payables):
            return self._heeros_link_create_payments_orm(lines, method, payables)
        model = self._heeros_link_create_payments_orm(lines[:1], method, payables)
        clones = self._heeros_link_clone_payments(model, lines[1:], payables)
        if clones is None:
            return model | self._heeros_link_create_payments_orm(lines[1:], method, payables)
        return model | clones

    def _heeros_link_open_payables(self, lines):
        """``{bill id: its open payable (or receivable) journal items}``, read
        in one query per field for all the bills."""
        moves = lines.move_id
        moves.line_ids.fetch(["account_id", "reconciled", "amount_residual", "amount_residual_currency", "currency_id"])
        payables = {}
        for move in moves:
            payables[move.id] = move.line_ids.filtered(
                lambda aml: (
                    aml.account_id.account_type in ("liability_payable", "asset_receivable") and not aml.reconciled
                )
            )
        for line in lines:
            if not payables[line.move_id.id]:
                raise UserError(_("%s has already been paid: remove it from the batch.", line.move_id.display_name))
        return payables

    def _heeros_link_create_payments_orm(self, lines, method, payables):
        """Odoo's flow for ``lines``: one ``create`` of their payments, one
        posting and one reconciliation plan."""
        vals_list = [
            self._heeros_link_payment_vals(line, method, payables[line.move_id.id][0].account_id) for line in lines
        ]
        payments = self.env["account.payment"].with_context(skip_invoice_sync=True).create(vals_list)
        payments.action_post()
        plan = []
        for line, payment in zip(lines, payments):
            counterpart = payment.move_id.line_ids.filtered(
                lambda aml, account=payables[line.move_id.id][0].account_id: aml.account_id == account
            )
            plan.append(counterpart + payables[line.move_id.id])
        self.env["account.move.line"]._reconcile_plan(plan)
        self._heeros_link_set_payments(lines, payments)
        return payments

    def _heeros_link_set_payments(self, lines, payments):
        self.env["heeros.link.payment.line"].flush_model()
        self.env.cr.execute(
            """UPDATE heeros_link_payment_line AS line SET payment_id = pairs.payment
                                 FROM unnest(%s::int[], %s::int[]) AS pairs(line, payment)
                                WHERE line.id = pairs.line""",
            [lines.ids, payments.ids],
        )
        lines.invalidate_recordset(["payment_id"])

    def _heeros_link_bulk_payable(self, lines, payables):
        """Whether the payments of ``lines`` can be written after a model
        payment: at least three, each paying one whole open payable item of
        its bill in the company's currency, from a journal in that currency
        whose entries are not hashed, the first not of 1.00 (its amounts
        are told apart from quantities)."""
        company_currency = self.company_id.currency_id
        journal = self.journal_id
        if len(lines) < 3 or journal.restrict_mode_hash_table:
            return False
        if (journal.currency_id or company_currency) != company_currency:
            return False
        if company_currency.compare_amounts(lines[0].amount, 1.0) == 0:
            return False
        for line in lines:
            items = payables[line.move_id.id]
            if len(items) != 1 or line.currency_id != company_currency or items.currency_id != company_currency:
                return False
            if company_currency.compare_amounts(abs(items.amount_residual), line.amount) != 0:
                return False
        return True

    # Columns of the model's rows that are the same for every payment of the
    # batch are copied; these are the payment's own. Amount columns (any
    # numeric column holding plus or minus the model's amount) take the
    # payment's amount with the model's sign.
    _HEEROS_LINK_NOT_AMOUNTS = frozenset({"quantity", "discount", "invoice_currency_rate", "price_unit"})

    def _heeros_link_fiscal_positions(self, partners):
        """``{partner id: fiscal position id}`` as Odoo gives a payment's
        entry, computed once per distinct address and VAT situation."""
        FiscalPosition = self.env["account.fiscal.position"].with_company(self.company_id)
        partners.fetch(["country_id", "state_id", "zip", "vat", "property_account_position_id"])
        by_key, positions = {}, {}
        for partner in partners:
            key = (
                partner.property_account_position_id.id,
                partner.country_id.id,
                partner.state_id.id,
                partner.zip,
                partner.vat,
            )
            if key not in by_key:
                by_key[key] = FiscalPosition._get_fiscal_position(partner).id or None
            positions[partner.id] = by_key[key]
        return positions

    def _heeros_link_clone_payments(self, model, lines, payables):
        """The payments of ``lines`` written in SQL after ``model`` (the batch's
        first payment, made, posted and reconciled by Odoo): their journal
        entries (numbered in the journal's sequence after the model's), the
        items in the outstanding payments account and the payable account,
        the reconciliation with each bill and the bills "in payment". A few
        statements for the whole batch. ``None`` when the model is not the
        expected shape (the caller then uses Odoo's flow)."""
        if not lines:
            return self.env["account.payment"]
        cr = self.env.cr
        self.env.flush_all()
        move = model.move_id
        model_bill_line = payables[self.line_ids.filtered(lambda line: line.payment_id == model).move_id.id]
        liquidity = move.line_ids.filtered(lambda aml: aml.account_id == model.outstanding_account_id)
        counterpart = move.line_ids - liquidity
        partial = self.env["account.partial.reconcile"].search(
            [("debit_move_id", "=", counterpart.id), ("credit_move_id", "=", model_bill_line.id)]
        )
        if (
            len(liquidity) != 1
            or len(counterpart) != 1
            or len(partial) != 1
            or not partial.full_reconcile_id
            or not move.sequence_prefix
            or len(model_bill_line) != 1
        ):
            return None
        format_string, format_values = move._get_sequence_format_param(move.name)
        seq = format_values.pop("seq")
        cache = move._get_sequence_cache()
        cache_key = (format_string.format(**format_values, seq=0), move._sequence_index and move[move._sequence_index])
        if cache.get(cache_key) != seq:
            return None  # the model's number does not hold the journal's sequence lock
        count = len(lines)

        def new_ids(table):
            cr.execute(SQL("SELECT nextval(%s) FROM generate_series(1, %s)", f"{table}_id_seq", count))
            return [row[0] for row in cr.fetchall()]

        payment_ids = new_ids("account_payment")
        move_ids = new_ids("account_move")
        liquidity_ids = new_ids("account_move_line")
        counterpart_ids = new_ids("account_move_line")
        partial_ids = new_ids("account_partial_reconcile")
        full_ids = new_ids("account_full_reconcile")
        bill_items = [payables[line.move_id.id] for line in lines]
        self.env["account.move.line"].concat(*bill_items).fetch(["date", "account_id"])
        lines.fetch(["partner_bank_id", "end_to_end_id", "amount", "move_id"])
        positions = self._heeros_link_fiscal_positions(lines.move_id.commercial_partner_id)
        names = [format_string.format(**format_values, seq=seq + n) for n in range(1, count + 1)]
        memos = [line.end_to_end_id for line in lines]
        values = {
            "payment": payment_ids,
            "move": move_ids,
            "liquidity": liquidity_ids,
            "counterpart": counterpart_ids,
            "partial": partial_ids,
            "full": full_ids,
            "amount": [line.amount for line in lines],
            "partner": [line.move_id.commercial_partner_id.id for line in lines],
            "partner_name": [line.move_id.commercial_partner_id.display_name for line in lines],
            "bank": [line.partner_bank_id.id or None for line in lines],
            "account": [items.account_id.id for items in bill_items],
            "bill": [line.move_id.id for line in lines],
            "bill_line": [items.id for items in bill_items],
            "bill_date": [items.date for items in bill_items],
            "name": names,
            "seq": list(range(seq + 1, seq + count + 1)),
            "memo": memos,
            "position": [positions[line.move_id.commercial_partner_id.id] for line in lines],
            "matching": [str(full_id) for full_id in full_ids],
        }
        types = {
            "bill_date": "date",
            "name": "varchar",
            "memo": "varchar",
            "partner_name": "varchar",
            "matching": "varchar",
            "amount": "numeric",
        }
        columns = list(values)
        source = SQL(
            "unnest(%s) AS v(%s)",
            SQL(", ").join(SQL("%s::%s[]", values[name], SQL(types.get(name, "int"))) for name in columns),
            SQL(", ").join(SQL.identifier(name) for name in columns),
        )

        def v(name):
            return SQL.identifier("v", name)

        def clone(table, model_id, overrides, model_amount):
            cr.execute(SQL("SELECT * FROM %s WHERE id = %s", SQL.identifier(table), model_id))
            row = cr.dictfetchone()
            cr.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = %s AND table_schema = current_schema()",
                [table],
            )
            kinds = dict(cr.fetchall())
            names_, exprs = [], []
            for column, value in row.items():
                names_.append(SQL.identifier(column))
                if column in overrides:
                    exprs.append(overrides[column])
                elif (
                    kinds.get(column) in ("numeric", "double precision")
                    and column not in self._HEEROS_LINK_NOT_AMOUNTS
                    and value
                    and abs(float(value)) == float(model_amount)
                ):
                    sign = 1 if float(value) > 0 else -1
                    exprs.append(SQL("%s * v.amount", sign))
                else:
                    exprs.append(SQL("m.%s", SQL.identifier(column)))
            cr.execute(
                SQL(
                    "INSERT INTO %s (%s) SELECT %s FROM %s m, %s WHERE m.id = %s",
                    SQL.identifier(table),
                    SQL(", ").join(names_),
                    SQL(", ").join(exprs),
                    SQL.identifier(table),
                    source,
                    model_id,
                )
            )

        amount = model.amount
        # the payments first without their entries (the entries point back to them)
        clone(
            "account_payment",
            model.id,
            {
                "id": v("payment"),
                "move_id": SQL("NULL"),
                "partner_id": v("partner"),
                "partner_bank_id": v("bank"),
                "destination_account_id": v("account"),
                "name": v("name"),
                "memo": v("memo"),
            },
            amount,
        )
        clone(
            "account_move",
            move.id,
            {
                "id": v("move"),
                "origin_payment_id": v("payment"),
                "partner_id": v("partner"),
                "commercial_partner_id": v("partner"),
                "partner_bank_id": v("bank"),
                "fiscal_position_id": v("position"),
                "name": v("name"),
                "sequence_number": v("seq"),
                "ref": v("memo"),
                "invoice_partner_display_name": v("partner_name"),
            },
            amount,
        )
        common_line = {
            "move_id": v("move"),
            "partner_id": v("partner"),
            "payment_id": v("payment"),
            "move_name": v("name"),
            "ref": v("memo"),
            # the label names the payment's memo (its end-to-end id)
            "name": SQL("replace(m.name, %s, v.memo)", model.memo) if model.memo else SQL("m.name"),
        }
        clone("account_move_line", liquidity.id, dict(common_line, id=v("liquidity")), amount)
        clone(
            "account_full_reconcile",
            partial.full_reconcile_id.id,
            {"id": v("full"), "exchange_move_id": SQL("NULL")},
            amount,
        )
        clone(
            "account_move_line",
            counterpart.id,
            dict(
                common_line,
                id=v("counterpart"),
                account_id=v("account"),
                full_reconcile_id=v("full"),
                matching_number=v("matching"),
            ),
            amount,
        )
        clone(
            "account_partial_reconcile",
            partial.id,
            {
                "id": v("partial"),
                "debit_move_id": v("counterpart"),
                "credit_move_id": v("bill_line"),
                "full_reconcile_id": v("full"),
                "max_date": SQL("GREATEST(v.bill_date, m.max_date)"),
                "exchange_move_id": SQL("NULL"),
            },
            amount,
        )
        cr.execute(
            SQL(
                "UPDATE account_payment p SET move_id = v.move FROM %s WHERE p.id = v.payment",
                source,
            )
        )
        cr.execute(
            SQL(
                "INSERT INTO account_move__account_payment (payment_id, invoice_id) SELECT v.payment, v.bill FROM %s",
                source,
            )
        )
        # the bills: their payable item reconciled, the bill in payment (as Odoo left the model's)
        cr.execute(
            SQL(
                """UPDATE account_move_line l SET reconciled = m.reconciled, amount_residual = m.amount_residual,
                          amount_residual_currency = m.amount_residual_currency, full_reconcile_id = v.full,
                          matching_number = v.matching, write_date = m.write_date, write_uid = m.write_uid
                     FROM account_move_line m, %s WHERE m.id = %s AND l.id = v.bill_line""",
                source,
                model_bill_line.id,
            )
        )
        cr.execute(
            SQL(
                """UPDATE account_move b SET payment_state = m.payment_state, amount_residual = m.amount_residual,
                          amount_residual_signed = m.amount_residual_signed,
                          is_manually_modified = m.is_manually_modified, write_date = m.write_date,
                          write_uid = m.write_uid
                     FROM account_move m, %s WHERE m.id = %s AND b.id = v.bill""",
                source,
                model_bill_line.move_id.id,
            )
        )
        cache[cache_key] = seq + count
        self.env.invalidate_all()
        payments = self.env["account.payment"].browse(payment_ids)
        self._heeros_link_set_payments(lines, payments)
        return payments

    def _heeros_link_payment_method(self):
        methods = self.journal_id.outbound_payment_method_line_ids
        method = methods.filtered(lambda m: m.payment_method_id.code == "manual")[:1] or methods[:1]
        if not method:
            raise UserError(_("Journal %s has no outgoing payment method.", self.journal_id.name))
        return method

    def _heeros_link_payment_vals(self, line, method, account):
        """Values of the Odoo payment of ``line`` (a bill's payable ``account``)."""
        return {
            "payment_type": "outbound",
            "partner_type": "supplier",
            "partner_id": line.move_id.commercial_partner_id.id,
            "partner_bank_id": line.partner_bank_id.id or False,
            "amount": line.amount,
            "currency_id": line.currency_id.id,
            "date": self.execution_date,
            "journal_id": self.journal_id.id,
            "company_id": self.company_id.id,
            "payment_method_line_id": method.id,
            "destination_account_id": account.id,
            "memo": line.end_to_end_id,
            "invoice_ids": [Command.link(line.move_id.id)],
        }

    def _heeros_link_queue_message(self, data, file_name):
        """The outbound Link message carrying the file, on the batch's
        connection, linked to the batch."""
        self.ensure_one()
        Message = self.env["heeros.link.message"].sudo()
        message = Message._link_queue(
            "pain.001",
            file_name,
            data,
            self.company_id,
            connection=self.connection_id,
            records=self,
            external_ref=self.pain_message_id,
        )
        if self.confidential:
            message.write({"heeros_link_confidential": True})
        super().write({"heeros_link_message_ids": [Command.link(message.id)]})
        return message

    def _heeros_link_payroll_payload(self):
        self.ensure_one()
        attachment = self.sudo().payroll_attachment_id
        if not attachment:
            raise UserError(_("Batch %s has no payroll file to send.", self.name))
        data = attachment.raw or b""
        try:
            pain001.validate(data, attachment.name)
            pain001.read(data, attachment.name, salary_only=True)
        except LinkFormatError as exc:
            raise UserError(
                _("Payroll file %(file)s cannot be sent: %(error)s", file=attachment.name, error=str(exc))
            ) from None
        return data, attachment.name

    def _heeros_link_message_sent(self, message):
        """Called when the Link message of these batches reached the bank's side."""
        now = message.last_attempt or fields.Datetime.now()
        for batch in self.filtered(lambda b: b.state == "queued"):
            super(HeerosLinkPaymentBatch, batch).write({"state": "sent", "sent_at": now})
            batch.line_ids.filtered(lambda line: line.state == "draft").write({"state": "sent"})
            batch.message_post(body=_("Payment file sent to the bank through %s.", message.connection_id.name))

    def action_view_link_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("heeros_link_base.heeros_link_message_action")
        action.update({"domain": [("id", "in", self.heeros_link_message_ids.ids)], "context": {}})
        return action

    def _heeros_link_add_moves(self, moves, wizard=None):
        """Add one payment line per bill (its open amount); returns the lines."""
        self.ensure_one()
        Wizard = wizard or self.env["heeros.link.payment.batch.wizard"]
        vals_list = []
        for start in range(0, len(moves), 2000):
            chunk = moves[start : start + 2000]
            chunk.fetch(
                ["partner_id", "partner_bank_id", "payment_reference", "ref", "name", "amount_residual", "currency_id"]
            )
            vals_list += [dict(Wizard._heeros_link_line_vals(move), batch_id=self.id) for move in chunk]
        return self.env["heeros.link.payment.line"].create(vals_list)

    # ------------------------------------------------------------------
    # checks
    # ------------------------------------------------------------------
    def _heeros_link_check_lines(self):
        """``[(line, text)]``: what is wrong with the lines, before anything is sent."""
        self.ensure_one()
        problems = []
        if not self.line_ids.filtered(lambda line: line.state != "cancel"):
            problems.append((self.env["heeros.link.payment.line"], _("The batch has no payments.")))
        for line in self.line_ids.filtered(lambda line: line.state != "cancel"):
            problems.extend((line, text) for text in line._heeros_link_problems())
        return problems

    def _heeros_link_raise_problems(self, problems):
        if not problems:
            return
        texts = [f"{line._heeros_link_label()}: {text}" if line else text for line, text in problems]
        raise UserError(_("Batch %(batch)s cannot go on:\n%(problems)s", batch=self.name, problems="\n".join(texts)))
