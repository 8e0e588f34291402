from datetime import UTC, datetime

from markupsafe import escape

from odoo import api, models

#: pain.002.001.03 as a bank returns it for a payment file it accepted
_ACCEPTED_REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
 <CstmrPmtStsRpt>
  <GrpHdr><MsgId>{report_id}</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>
  <OrgnlGrpInfAndSts>
   <OrgnlMsgId>{message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>
   <OrgnlNbOfTxs>{count}</OrgnlNbOfTxs><GrpSts>ACCP</GrpSts>
  </OrgnlGrpInfAndSts>
 </CstmrPmtStsRpt>
</Document>
"""


class HeerosLinkPaymentBatchDemo(models.Model):
    _inherit = "heeros.link.payment.batch"

    @api.model
    def _heeros_link_demo_batch(self, bill_xmlids, connection_xmlid, execution_date):
        """A demo payment batch of the bills ``bill_xmlids``: approved, sent
        to the bank through ``connection_xmlid`` (the file lands in the
        folder's outbox) and accepted by the bank's pain.002, which arrives
        through the same folder. Returns the batch."""
        connection = self.env.ref(connection_xmlid)
        bills = self.env["account.move"].browse([self.env.ref(xmlid).id for xmlid in bill_xmlids])
        company = bills.company_id
        journal = self.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank"), ("bank_account_id", "!=", False)], limit=1
        )
        Batch = self.with_company(company).with_context(allowed_company_ids=company.ids)
        batch = Batch.create(
            {
                "company_id": company.id,
                "journal_id": journal.id,
                "connection_id": connection.id,
                "execution_date": execution_date,
            }
        )
        batch._heeros_link_add_moves(bills.with_env(Batch.env))
        batch.action_approve()
        message = batch._heeros_link_send()
        message._link_send()
        report = _ACCEPTED_REPORT.format(
            report_id=escape(f"STATUS-{batch.pain_message_id}"),
            created=datetime.now(UTC).replace(microsecond=0).isoformat(),
            message_id=escape(batch.pain_message_id),
            count=len(batch.line_ids),
        ).encode()
        feedback = self.env["heeros.link.message"]._link_intake(
            [(f"pain002_{batch.pain_message_id}.xml", report)], connection=connection, process=False
        )
        feedback._link_process()
        return batch
