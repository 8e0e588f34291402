"""API endpoints of bank traffic: statements and their lines, the original
bank files, latest balances, unmatched reference payments, payment batches
and the bank's feedback per payment."""

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

from ..models.account_bank_statement import MATCH_STATES as STATEMENT_MATCH_STATES
from ..models.payment_batch import KINDS, STATES
from ..models.payment_line import LINE_STATES

DATE = {"type": "string", "format": "date"}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_TEXT = {"type": ["string", "null"]}
NULLABLE_ID = {"type": ["integer", "null"]}
AMOUNT = {"type": "number"}
STATEMENT_ID = Param("statement_id", "path", {"type": "integer"}, "Id of the statement.")
BATCH_ID = Param("batch_id", "path", {"type": "integer"}, "Id of the payment batch.")
JOURNAL = Param("journal", schema={"type": "integer"}, description="Only this bank journal.")
MATCH_STATES = [code for code, _label in STATEMENT_MATCH_STATES]


def _obj(required, properties):
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


STATEMENT = schema(
    "BankStatement",
    _obj(
        ["id", "name", "company_id", "journal_id", "date", "currency"],
        {
            "id": {"type": "integer"},
            "name": NULLABLE_TEXT,
            "company_id": {"type": "integer"},
            "journal_id": {"type": "integer"},
            "iban": NULLABLE_TEXT,
            "date": NULLABLE_DATE,
            "currency": {"type": "string"},
            "balance_start": AMOUNT,
            "balance_end": AMOUNT,
            "line_count": {"type": "integer"},
            "message_id": {**NULLABLE_ID, "description": "The Link message of the bank file: its payload is the file."},
            "balance_warning": NULLABLE_TEXT,
            "created_at": DATE_TIME,
            "changed_at": DATE_TIME,
        },
    ),
)
STATEMENT_LINE = schema(
    "BankStatementLine",
    _obj(
        ["id", "statement_id", "date", "amount", "currency"],
        {
            "id": {"type": "integer"},
            "statement_id": NULLABLE_ID,
            "journal_id": {"type": "integer"},
            "company_id": {"type": "integer"},
            "date": DATE,
            "amount": AMOUNT,
            "currency": {"type": "string"},
            "payment_ref": NULLABLE_TEXT,
            "partner_id": NULLABLE_ID,
            "partner_name": NULLABLE_TEXT,
            "account_number": NULLABLE_TEXT,
            "reference": {**NULLABLE_TEXT, "description": "Finnish or RF creditor reference."},
            "archive_id": {**NULLABLE_TEXT, "description": "The bank's archive reference."},
            "fi_code": NULLABLE_TEXT,
            "iso_code": NULLABLE_TEXT,
            "match_state": {"enum": [*MATCH_STATES, None]},
            "invoice_ids": {"type": "array", "items": {"type": "integer"}},
            "is_reconciled": {"type": "boolean"},
            "message_id": NULLABLE_ID,
        },
    ),
)
BALANCE = schema(
    "BankBalance",
    _obj(
        ["id", "journal_id", "company_id", "currency"],
        {
            "id": {"type": "integer"},
            "journal_id": {"type": "integer"},
            "company_id": {"type": "integer"},
            "iban": NULLABLE_TEXT,
            "currency": {"type": "string"},
            "booked_amount": AMOUNT,
            "booked_date": NULLABLE_DATE,
            "booked_at": NULLABLE_TIME,
            "available_amount": AMOUNT,
            "available_date": NULLABLE_DATE,
            "available_at": NULLABLE_TIME,
            "credit_line": AMOUNT,
            "message_id": NULLABLE_ID,
            "source": {**NULLABLE_TEXT, "description": "Document type the balance came from."},
        },
    ),
)
PAYMENT = schema(
    "Payment",
    _obj(
        ["id", "batch_id", "state", "amount", "currency"],
        {
            "id": {"type": "integer"},
            "batch_id": {"type": "integer"},
            "state": {"enum": [code for code, _label in LINE_STATES]},
            "creditor_name": NULLABLE_TEXT,
            "iban": NULLABLE_TEXT,
            "amount": AMOUNT,
            "currency": {"type": "string"},
            "reference": NULLABLE_TEXT,
            "end_to_end_id": NULLABLE_TEXT,
            "bill_id": NULLABLE_ID,
            "status_code": {**NULLABLE_TEXT, "description": "The bank's status (ACCP, RJCT, ...)."},
            "reason_code": NULLABLE_TEXT,
            "reason_text": NULLABLE_TEXT,
        },
    ),
)
BATCH_PROPERTIES = {
    "id": {"type": "integer"},
    "name": {"type": "string"},
    "company_id": {"type": "integer"},
    "journal_id": NULLABLE_ID,
    "kind": {"enum": [code for code, _label in KINDS]},
    "state": {"enum": [code for code, _label in STATES]},
    "execution_date": NULLABLE_DATE,
    "amount_total": AMOUNT,
    "currency": {"type": "string"},
    "payment_count": {"type": "integer"},
    "pain_message_id": NULLABLE_TEXT,
    "sent_at": NULLABLE_TIME,
    "feedback_at": NULLABLE_TIME,
    "feedback_state": {**NULLABLE_TEXT, "description": "The bank's status of the whole batch."},
    "message_ids": {"type": "array", "items": {"type": "integer"}},
    "changed_at": DATE_TIME,
}
BATCH = schema("PaymentBatch", _obj(["id", "name", "company_id", "state", "kind"], BATCH_PROPERTIES))
BATCH_DETAIL = schema(
    "PaymentBatchWithPayments",
    _obj(
        ["id", "name", "company_id", "state", "kind", "payments"],
        {**BATCH_PROPERTIES, "payments": {"type": "array", "items": PAYMENT}},
    ),
)


def _values(records):
    return records._heeros_link_api_values()


def _filters(args, mapping):
    return [(field, operator, args[name]) for name, field, operator in mapping if args.get(name) is not None]


class LinkBankApi(http.Controller):
    @endpoint(
        "GET",
        "/bank/statements",
        summary="List bank statements",
        tag="Bank",
        params=(
            *PAGED,
            JOURNAL,
            Param("date_from", schema=DATE, description="Statement date on or after."),
            Param("date_to", schema=DATE, description="Statement date on or before."),
            Param("changed_since", schema=DATE_TIME),
        ),
        response=page_of(STATEMENT),
    )
    def heeros_link_api_statements(self, args):
        domain = _filters(
            args,
            (
                ("journal", "journal_id", "="),
                ("date_from", "date", ">="),
                ("date_to", "date", "<="),
                ("changed_since", "write_date", ">="),
            ),
        )
        return paged(request.env["account.bank.statement"], domain, args, _values)

    @endpoint(
        "GET",
        "/bank/statements/{statement_id}",
        summary="One bank statement",
        tag="Bank",
        params=(STATEMENT_ID,),
        response=STATEMENT,
    )
    def heeros_link_api_statement(self, args):
        return get_record(request.env["account.bank.statement"], args["statement_id"])._heeros_link_api_values()[0]

    @endpoint(
        "GET",
        "/bank/statements/{statement_id}/lines",
        summary="The lines of a bank statement",
        tag="Bank",
        params=(STATEMENT_ID, *PAGED),
        response=page_of(STATEMENT_LINE),
    )
    def heeros_link_api_statement_lines(self, args):
        statement = get_record(request.env["account.bank.statement"], args["statement_id"])
        return paged(request.env["account.bank.statement.line"], [("statement_id", "=", statement.id)], args, _values)

    @endpoint(
        "GET",
        "/bank/statements/{statement_id}/file",
        summary="The bank file the statement was imported from (camt, TITO, KTL)",
        tag="Bank",
        params=(STATEMENT_ID,),
        raw_response=True,
    )
    def heeros_link_api_statement_file(self, args):
        """Fetched from the bank once, kept by the Link: other systems take
        it here instead of fetching it from the bank again."""
        statement = get_record(request.env["account.bank.statement"], args["statement_id"])
        message = statement.heeros_link_bank_message_id
        if not message:
            raise ApiError(404, "no_file", f"Statement {statement.id} was not imported from a bank file.")
        return payload_response(message)

    @endpoint(
        "GET",
        "/bank/balances",
        summary="Latest balance of each bank account",
        tag="Bank",
        params=(*PAGED, JOURNAL),
        response=page_of(BALANCE),
    )
    def heeros_link_api_balances(self, args):
        domain = _filters(args, (("journal", "journal_id", "="),))
        return paged(request.env["heeros.link.bank.balance"], domain, args, _values)

    @endpoint(
        "GET",
        "/bank/unmatched-payments",
        summary="Reference payments received that match no open invoice",
        tag="Bank",
        params=(*PAGED, JOURNAL),
        response=page_of(STATEMENT_LINE),
    )
    def heeros_link_api_unmatched(self, args):
        domain = [
            ("heeros_link_reference", "!=", False),
            ("heeros_link_match_state", "=", "unmatched"),
            ("is_reconciled", "=", False),
            *_filters(args, (("journal", "journal_id", "="),)),
        ]
        return paged(request.env["account.bank.statement.line"], domain, args, _values)

    @endpoint(
        "GET",
        "/payments/batches",
        summary="List payment batches",
        tag="Payments",
        params=(
            *PAGED,
            Param("state", schema={"enum": [code for code, _label in STATES]}),
            Param("changed_since", schema=DATE_TIME),
        ),
        response=page_of(BATCH),
    )
    def heeros_link_api_batches(self, args):
        domain = _filters(args, (("state", "state", "="), ("changed_since", "write_date", ">=")))
        return paged(request.env["heeros.link.payment.batch"], domain, args, _values)

    @endpoint(
        "GET",
        "/payments/batches/{batch_id}",
        summary="One payment batch with the bank's feedback per payment",
        tag="Payments",
        params=(BATCH_ID,),
        response=BATCH_DETAIL,
    )
    def heeros_link_api_batch(self, args):
        batch = get_record(request.env["heeros.link.payment.batch"], args["batch_id"])
        return batch._heeros_link_api_values(with_payments=True)[0]
