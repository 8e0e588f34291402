"""API endpoints of e-invoicing: the delivery state of sales invoices, and
the vendor bills received as e-invoices with their original files."""

from odoo import http
from odoo.addons.heeros_link_base.controllers.api import (
    PAGED,
    ApiError,
    Param,
    endpoint,
    get_record,
    page_of,
    paged,
    schema,
)
from odoo.addons.heeros_link_base.controllers.messages import DATE_TIME, payload_response
from odoo.http import request

from ..models.account_move import LINK_STATES

NULLABLE_TEXT = {"type": ["string", "null"]}
NULLABLE_ID = {"type": ["integer", "null"]}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
SALES_TYPES = ("out_invoice", "out_refund")
BILL_TYPES = ("in_invoice", "in_refund")
MOVE_ID = Param("move_id", "path", {"type": "integer"}, "Id of the vendor bill.")

INVOICE = schema(
    "Invoice",
    {
        "type": "object",
        "required": ["id", "move_type", "company_id", "state", "currency", "amount_total", "einvoice_state"],
        "properties": {
            "id": {"type": "integer"},
            "name": NULLABLE_TEXT,
            "move_type": {"enum": [*SALES_TYPES, *BILL_TYPES]},
            "company_id": {"type": "integer"},
            "partner_id": NULLABLE_ID,
            "partner_name": NULLABLE_TEXT,
            "state": {"enum": ["draft", "posted", "cancel"]},
            "invoice_date": NULLABLE_DATE,
            "due_date": NULLABLE_DATE,
            "ref": NULLABLE_TEXT,
            "payment_reference": NULLABLE_TEXT,
            "currency": {"type": "string"},
            "amount_untaxed": {"type": "number"},
            "amount_total": {"type": "number"},
            "amount_residual": {"type": "number"},
            "payment_state": NULLABLE_TEXT,
            "einvoice_state": {
                "enum": [*(code for code, _label in LINK_STATES), None],
                "description": "Sales invoices: where their e-invoice is (null: not sent through the Link).",
            },
            "einvoice_error": NULLABLE_TEXT,
            "einvoice_message_id": NULLABLE_ID,
            "received_message_id": {**NULLABLE_ID, "description": "Bills: the message of the received e-invoice."},
            "received_format": {"enum": ["finvoice", "ubl", None]},
            "changed_at": {"type": "string", "format": "date-time"},
        },
        "additionalProperties": False,
    },
)


def _values(moves):
    return moves._heeros_link_api_values()


class LinkEInvoiceApi(http.Controller):
    @endpoint(
        "GET",
        "/einvoices/sales",
        summary="Sales invoices and the delivery state of their e-invoices",
        tag="E-invoices",
        params=(
            *PAGED,
            Param("einvoice_state", schema={"enum": [code for code, _label in LINK_STATES]}),
            Param("changed_since", schema=DATE_TIME),
        ),
        response=page_of(INVOICE),
    )
    def heeros_link_api_sales_invoices(self, args):
        domain = [("move_type", "in", SALES_TYPES), ("state", "=", "posted")]
        if args["einvoice_state"]:
            domain.append(("heeros_link_state", "=", args["einvoice_state"]))
        if args["changed_since"]:
            domain.append(("write_date", ">=", args["changed_since"]))
        return paged(request.env["account.move"], domain, args, _values)

    @endpoint(
        "GET",
        "/einvoices/bills",
        summary="Vendor bills received as e-invoices",
        tag="E-invoices",
        params=(*PAGED, Param("changed_since", schema=DATE_TIME)),
        response=page_of(INVOICE),
    )
    def heeros_link_api_bills(self, args):
        domain = [("move_type", "in", BILL_TYPES), ("heeros_link_in_message_id", "!=", False)]
        if args["changed_since"]:
            domain.append(("write_date", ">=", args["changed_since"]))
        return paged(request.env["account.move"], domain, args, _values)

    @endpoint(
        "GET",
        "/einvoices/bills/{move_id}",
        summary="One received vendor bill",
        tag="E-invoices",
        params=(MOVE_ID,),
        response=INVOICE,
    )
    def heeros_link_api_bill(self, args):
        return _bill(args["move_id"])._heeros_link_api_values()[0]

    @endpoint(
        "GET",
        "/einvoices/bills/{move_id}/file",
        summary="The e-invoice file the bill was made from (Finvoice, UBL)",
        tag="E-invoices",
        params=(MOVE_ID,),
        raw_response=True,
    )
    def heeros_link_api_bill_file(self, args):
        bill = _bill(args["move_id"])
        return payload_response(bill.heeros_link_in_message_id)


def _bill(move_id):
    move = get_record(request.env["account.move"], move_id)
    if move.move_type not in BILL_TYPES or not move.heeros_link_in_message_id:
        raise ApiError(404, "not_found", f"{move_id} is not a vendor bill received as an e-invoice.")
    return move
