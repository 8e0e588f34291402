"""Finvoice attachment messages (``FinvoiceAttachments``) received: their
files go onto the bill of the invoice they belong to.

An attachment message is paired with its invoice by the identifier the
invoice names (``AttachmentMessageDetails/AttachmentMessageIdentifier`` =
the attachment message's ``MessageIdentifier``) or, failing that, by the
invoice's own message id (the attachment message's
``RefToMessageIdentifier``). Either may arrive first, in one file or in two:

* the invoice first: the attachment message finds the bill by
  ``heeros_link_in_attachment_ref`` / ``heeros_link_in_document_id``;
* the attachment message first: it is kept ``processed`` with its identifier
  as the message's external reference and nothing linked, and the invoice's
  import picks it up (:meth:`_link_waiting_attachments`).

Pairing never crosses what a connection serves: the bill must belong to a
company the attachment message's connection serves, and when both name the
e-invoice address they were sent from, the two must be the same sender.
"""

import hashlib

from markupsafe import Markup

from odoo import _, models
from odoo.addons.heeros_link_base.formats import identifiers
from odoo.addons.heeros_link_base.registry import Outcome

from ..formats import finvoice as fv
from .einvoice_import import ATTACHMENTS_TYPE


class HeerosLinkEInvoiceImport(models.AbstractModel):
    _inherit = "heeros.link.einvoice.import"

    # ------------------------------------------------------------------
    # the attachment messages of the file being imported
    # ------------------------------------------------------------------
    def _link_pair_attachments(self, state):
        """Attach the files of each attachment message read from the file to
        its invoice's bill: one of this file, else one already imported.
        ``None`` when the file also made bills (its outcome is theirs), else
        the :class:`Outcome` of a file of attachment messages only."""
        attached, waiting, texts = self.env["account.move"], [], []
        for attachments in state.attachment_messages:
            bill = self._link_attachments_bill_of_file(state, attachments)
            if not bill:
                bill, problem = self._link_attachments_known_bill(state, attachments)
                if problem:
                    if state.made:
                        state.warnings.append(problem)
                        continue
                    return Outcome.refused(problem)
            if not bill:
                waiting.append(attachments)
                continue
            if self._link_attachments_done(state.message, bill, attachments):
                texts.append(
                    _(
                        "attachment message %(id)s is already attached to bill %(bill)s",
                        id=attachments.message_id,
                        bill=bill.display_name,
                    )
                )
                continue
            self._link_attach_message_files(bill, attachments, state.message)
            attached |= bill
            texts.append(
                _(
                    "%(count)s attachments of attachment message %(id)s attached to bill %(bill)s",
                    count=len(attachments.attachments),
                    id=attachments.message_id,
                    bill=bill.display_name,
                )
            )
        for attachments in waiting:
            texts.append(
                _(
                    "attachment message %(id)s waits for its invoice (message %(ref)s): its files are "
                    "attached to the bill when the invoice arrives",
                    id=attachments.message_id,
                    ref=attachments.ref_to_message_id or "-",
                )
            )
        if len(waiting) == 1 or (len(state.attachment_messages) == 1 and not state.made):
            # what the invoice's import looks for when it comes after
            state.message.sudo().external_ref = (waiting or state.attachment_messages)[0].message_id
        if state.made:
            state.warnings.extend(texts)
            return None
        if not attached and not waiting:
            return Outcome.duplicate("; ".join(texts))
        return Outcome.processed(attached, text="\n".join(texts))

    def _link_attachments_bill_of_file(self, state, attachments):
        """The bill made from this file of the invoice ``attachments``
        belongs to (an attachment message after its invoice in one file)."""
        for invoice, bill in state.made:
            if self._link_attachments_of(invoice.attachment_message_id, invoice.document_id, attachments):
                return bill
        return self.env["account.move"]

    def _link_attachments_of(self, attachment_ref, document_id, attachments):
        """Whether ``attachments`` belongs to the invoice that named
        ``attachment_ref`` and was sent as message ``document_id``."""
        if attachment_ref:
            return attachment_ref == attachments.message_id
        return bool(document_id) and document_id == attachments.ref_to_message_id

    def _link_attachments_known_bill(self, state, attachments):
        """``(bill, None)``: the bill already imported of the invoice
        ``attachments`` belongs to, in a company the message's connection
        serves (empty when the invoice has not come yet); ``(empty,
        problem)`` when that invoice came from another sender."""
        message = state.message
        Move = self.env["account.move"].sudo()
        companies = message.connection_id.company_ids or message.company_id
        base = [
            ("company_id", "in", companies.ids),
            ("heeros_link_in_format", "=", "finvoice"),
            ("move_type", "in", ("in_invoice", "in_refund")),
            ("state", "!=", "cancel"),
        ]
        bills = Move.search(base + [("heeros_link_in_attachment_ref", "=", attachments.message_id)], order="id desc")
        if not bills and attachments.ref_to_message_id:
            bills = Move.search(
                base
                + [
                    ("heeros_link_in_attachment_ref", "=", False),
                    ("heeros_link_in_document_id", "=", attachments.ref_to_message_id),
                ],
                order="id desc",
            )
        sender = self._link_attachments_sender(attachments)
        same = bills.filtered(lambda b: self._link_same_sender(b.heeros_link_in_sender_address, sender))
        if bills and not same:
            return Move.browse(), _(
                "attachment message %(id)s names the invoice of bill %(bill)s, which was sent from "
                "%(theirs)s, but it comes from %(ours)s: its files were not attached",
                id=attachments.message_id,
                bill=bills[0].display_name,
                theirs=bills[0].heeros_link_in_sender_address,
                ours=sender,
            )
        return same[:1], None

    def _link_attachments_sender(self, attachments):
        sender = attachments.sender
        return (sender.address or "") if sender is not None else ""

    def _link_same_sender(self, one, other):
        """Two e-invoice addresses of the same sender, or one unknown."""
        one, other = identifiers.compact(one or ""), identifiers.compact(other or "")
        return not one or not other or one == other

    def _link_attachments_done(self, message, bill, attachments):
        """Whether every file of ``attachments`` is already on ``bill`` (the
        same attachment message received again, alone or with its invoice)."""
        existing = (
            self.env["ir.attachment"]
            .sudo()
            .search_read([("res_model", "=", "account.move"), ("res_id", "=", bill.id)], ["checksum"])
        )
        checksums = {row["checksum"] for row in existing}
        return bool(attachments.attachments) and all(
            hashlib.sha1(item.content).hexdigest() in checksums for item in attachments.attachments
        )

    def _link_attach_message_files(self, bill, attachments, message):
        """The files of ``attachments`` (an :class:`~..formats.finvoice.AttachmentMessage`
        received as ``message``) attached to ``bill``; the first PDF becomes
        the bill's main attachment unless it already has a PDF one."""
        bill = bill.sudo()
        created = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": item.name or item.identifier or _("attachment"),
                        "raw": item.content,
                        "mimetype": item.mime_type or "application/octet-stream",
                        "description": item.identifier or False,
                        "res_model": "account.move",
                        "res_id": bill.id,
                        "company_id": bill.company_id.id,
                    }
                    for item in attachments.attachments
                ]
            )
        )
        pdf = created.filtered(lambda a: a.mimetype == "application/pdf")[:1]
        main = bill.message_main_attachment_id
        if pdf and (not main or main.mimetype != "application/pdf"):
            bill.message_main_attachment_id = pdf
        message._link_records(bill)
        bill.message_post(
            body=Markup("%s<ul>%s</ul>")
            % (
                _(
                    "Files of the Finvoice attachment message %(id)s (Link message %(message)s):",
                    id=attachments.message_id,
                    message=message.name,
                ),
                Markup("").join(Markup("<li>%s</li>") % a.name for a in created),
            )
        )
        return created

    # ------------------------------------------------------------------
    # an invoice whose attachment message came first
    # ------------------------------------------------------------------
    def _link_waiting_attachments(self, state, invoice, move):
        """Attachment messages received before their invoice, now attached
        to its bill: each is linked to the bill and says so."""
        if not invoice.attachment_message_id or invoice.format != "finvoice":
            return  # an invoice with an attachment message names it (Finvoice)
        refs = [invoice.attachment_message_id]
        message = state.message
        candidates = (
            self.env["heeros.link.message"]
            .sudo()
            .search(
                [
                    ("id", "!=", message.id),
                    ("direction", "=", "in"),
                    ("state", "=", "processed"),
                    ("document_type", "in", (ATTACHMENTS_TYPE, "finvoice")),
                    ("external_ref", "in", refs),
                ],
                order="id",
            )
        )
        for waiting in candidates:
            if move.company_id not in (waiting.connection_id.company_ids or waiting.company_id):
                continue  # received for companies this bill's company is not one of
            if waiting._linked("account.move").filtered(lambda b, w=waiting: b.heeros_link_in_message_id != w):
                continue  # already paired
            for attachments in self._link_message_attachments(waiting):
                if attachments.message_id not in refs:
                    continue
                if not self._link_attachments_of(invoice.attachment_message_id, invoice.document_id, attachments):
                    continue
                sender = self._link_attachments_sender(attachments)
                if not self._link_same_sender(invoice.sender_address, sender):
                    state.warnings.append(
                        _(
                            "attachment message %(id)s (Link message %(message)s) comes from %(ours)s, not "
                            "from %(theirs)s as the invoice %(number)s: its files were not attached",
                            id=attachments.message_id,
                            message=waiting.name,
                            ours=sender,
                            theirs=invoice.sender_address,
                            number=invoice.number,
                        )
                    )
                    continue
                self._link_attach_message_files(move, attachments, waiting)
                waiting.message_post(
                    body=_(
                        "Its invoice arrived (Link message %(message)s): the files are attached to bill %(bill)s",
                        message=message.name,
                        bill=move.display_name,
                    )
                )

    def _link_message_attachments(self, message):
        """The attachment messages of a received Link message, read again."""
        data = message._payload()
        if message.document_type == ATTACHMENTS_TYPE:
            return [fv.parse_attachment_message(data, message.file_name)]
        return [d for d in fv.iter_messages(data, message.file_name) if isinstance(d, fv.AttachmentMessage)]

    def _link_attach(self, state, invoice, move):
        super()._link_attach(state, invoice, move)
        self._link_waiting_attachments(state, invoice, move)
