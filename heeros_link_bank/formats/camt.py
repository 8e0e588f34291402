"""ISO 20022 bank-to-customer cash management messages.

One streaming parser reads the three messages banks send about an account:

* camt.052 account report (``BkToCstmrAcctRpt``/``Rpt``), intraday;
* camt.053 statement (``BkToCstmrStmt``/``Stmt``), the booked day or period;
* camt.054 debit/credit notification (``BkToCstmrDbtCdtNtfctn``/``Ntfctn``),
  e.g. the itemisation of a lump sum of reference payments.

Every version is read the same way: the message is recognised by its
namespace prefix ``urn:iso:std:iso:20022:tech:xsd:camt.05[234].001.`` and
elements are found by local name, so .001.02 to .001.08 and later versions
that keep the structure all work (version differences handled: ``Sts`` as
text or ``Sts/Cd``; ``BIC`` or ``BICFI``; party ``Nm`` directly or under
``Pty``; amounts in ``TxDtls/Amt`` or ``AmtDtls/TxAmt/Amt``; ``Btch`` under
``Ntry`` in .001.01).

Memory stays flat however many entries a file has: the document is read
with :func:`xmlsafe.iterparse` (which refuses DTDs and entities) and every
``Ntry`` is turned into an :class:`Entry` and dropped from the tree as soon as
its end tag is read, every statement likewise.

:func:`iter_entries` yields ``(statement_header, entry)`` pairs. The header
is a :class:`Statement` without entries, built when the first ``Ntry`` of the
statement starts; the schemas put ``Acct``, ``Bal`` and ``TxsSummry`` before
the entries, so the header is complete then. Anything a (non-conforming)
file puts after the entries, e.g. a late ``Bal``, or ``AddtlStmtInf``, is
only in the statement that :func:`parse` returns.

Lenient where banks are known to vary, never guessing: values are stripped,
BICs and IBANs lose padding spaces, ``EndToEndId`` ``NOTPROVIDED`` counts as
absent, an unquoted XML declaration is repaired by xmlsafe. An amount that is
not a number, a date that does not exist, a missing mandatory amount, credit
/debit indicator or status raises :class:`RecordError` naming the file, the
element path (``Stmt[2]/Ntry[5]/Amt``) and the line. A root that is not a
camt.052/053/054 ``Document`` raises :class:`UnrecognisedDocument`; a message
without any statement raises :class:`MalformedDocument`.
"""

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import (
    MalformedDocument,
    RecordError,
    UnrecognisedDocument,
)

from .statement import Balance, BankDocument, Entry, Statement, TxDetail

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.05"
_NAMESPACE_RE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:(camt\.05[234])\.001\.(\d+)")

#: kind -> (message element name prefix, statement element name)
MESSAGES = {
    "camt.052": ("BkToCstmrAcctRpt", "Rpt"),
    "camt.053": ("BkToCstmrStmt", "Stmt"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
_ADDITIONAL_INFO = {"Rpt": "AddtlRptInf", "Stmt": "AddtlStmtInf", "Ntfctn": "AddtlNtfctnInf"}

_AMOUNT_RE = re.compile(r"\d+(\.\d+)?")
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?")
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}:?\d{2})?")
_NOT_PROVIDED = {"NOTPROVIDED", "NOT PROVIDED"}


def camt_kind(namespace):
    """``('camt.053', '02')`` for a camt namespace, ``(None, None)`` otherwise."""
    match = _NAMESPACE_RE.match(namespace or "")
    return (match.group(1), match.group(2)) if match else (None, None)


def parse(data, file_name=None):
    """Parse a camt.052/053/054 file (bytes) into a :class:`BankDocument`."""
    document = None
    statements = []
    entries = []
    for event, obj, entry in _events(data, file_name):
        if event == "document":
            document = obj
        elif event == "entry":
            entries.append(entry)
        else:
            obj.entries = entries
            statements.append(obj)
            entries = []
    document.statements = statements
    return document


def iter_entries(data, file_name=None):
    """Yield ``(statement_header, entry)`` for every entry, in file order,
    with memory that does not grow with the number of entries.

    The header of a statement is one :class:`Statement` object (without
    entries) shared by all its entries.
    """
    for event, header, entry in _events(data, file_name):
        if event == "entry":
            yield header, entry


def _events(data, file_name):
    if isinstance(data, str):
        data = data.encode("utf-8")
    sniff = xmlsafe.sniff(data, file_name)
    if sniff.is_xml and sniff.error:
        # let the parser itself report what and where
        for _event in xmlsafe.iterparse(data, file_name, events=("start",)):
            pass
        raise MalformedDocument(sniff.error)
    kind, version = camt_kind(sniff.namespace)
    expected = ("a <Document> in namespace urn:iso:std:iso:20022:tech:xsd:"
                "camt.052/053/054.001.nn")
    if not sniff.is_xml or sniff.root != "Document" or kind is None:
        raise UnrecognisedDocument(
            f"not a camt.052, camt.053 or camt.054 document: {sniff.describe()}",
            file_name=file_name, expected=expected)
    message_name, container = MESSAGES[kind]
    if sniff.first_child and not sniff.first_child.startswith(message_name):
        raise UnrecognisedDocument(
            f"{kind} document whose message element is <{sniff.first_child}>",
            file_name=file_name, element=sniff.first_child, expected=f"<{message_name}>")
    reader = _Reader(sniff.namespace, kind, f"{kind}.001.{version}", file_name)
    yield from reader.events(data, container)


class _Reader:
    """Turns the elements of one camt document into data classes."""

    def __init__(self, ns, kind, version, file_name):
        self.ns = ns
        self.kind = kind
        self.version = version
        self.file_name = file_name
        self._paths = {}

    # -- element helpers ------------------------------------------------

    def q(self, path):
        """``'A/B'`` -> ``'{ns}A/{ns}B'`` (cached)."""
        qualified = self._paths.get(path)
        if qualified is None:
            qualified = "/".join(f"{{{self.ns}}}{part}" for part in path.split("/"))
            self._paths[path] = qualified
        return qualified

    def find(self, el, path):
        return el.find(self.q(path)) if el is not None else None

    def findall(self, el, path):
        return el.findall(self.q(path)) if el is not None else []

    def text(self, el, *paths):
        """Stripped text of the first of ``paths`` that has some, else None."""
        if el is None:
            return None
        for path in paths:
            child = el.find(self.q(path))
            if child is not None and child.text is not None:
                value = child.text.strip()
                if value:
                    return value
        return None

    def error(self, message, el, path, expected=None):
        return RecordError(message, file_name=self.file_name, element=path,
                           line=el.sourceline if el is not None else None,
                           expected=expected)

    def amount(self, el, path):
        """The decimal value of an amount element."""
        value = (el.text or "").strip()
        if not _AMOUNT_RE.fullmatch(value):
            raise self.error(f"amount {value!r} is not a number", el, path,
                             expected="a non-negative decimal number such as 1234.56")
        return Decimal(value)

    def currency(self, el, path, default=None):
        ccy = (el.get("Ccy") or "").strip().upper()
        if not ccy:
            if default:
                return default
            raise self.error("amount without currency (Ccy attribute)", el, path,
                             expected='Amt Ccy="EUR"')
        return ccy

    def sign(self, el, path, cdi_path="CdtDbtInd", amount=None, default=None):
        """+1 for CRDT, -1 for DBIT of the ``CdtDbtInd`` child of ``el``."""
        cdi_el = self.find(el, cdi_path)
        cdi = (cdi_el.text or "").strip().upper() if cdi_el is not None else ""
        if cdi == "CRDT":
            return 1
        if cdi == "DBIT":
            return -1
        if not cdi and default is not None:
            return default
        if not cdi and amount == 0:
            return 1
        raise self.error(
            f"credit/debit indicator {cdi!r} is neither CRDT nor DBIT" if cdi
            else "credit/debit indicator (CdtDbtInd) is missing",
            cdi_el if cdi_el is not None else el, f"{path}/{cdi_path}", expected="CRDT or DBIT")

    def parse_date(self, el, path):
        value = (el.text or "").strip()
        match = _DATE_RE.fullmatch(value)
        try:
            if match:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
        raise self.error(f"invalid date {value!r}", el, path, expected="a date YYYY-MM-DD")

    def parse_datetime(self, el, path):
        value = (el.text or "").strip()
        match = _DATETIME_RE.fullmatch(value)
        if match:
            year, month, day, hour, minute, second, fraction, zone = match.groups()
            micro = int((fraction or "0")[:6].ljust(6, "0"))
            tzinfo = None
            if zone == "Z":
                tzinfo = timezone.utc
            elif zone:
                zone = zone.replace(":", "")
                minutes = int(zone[1:3]) * 60 + int(zone[3:5])
                tzinfo = timezone(timedelta(minutes=-minutes if zone[0] == "-" else minutes))
            try:
                return datetime(int(year), int(month), int(day), int(hour), int(minute),
                                int(second or 0), micro, tzinfo=tzinfo)
            except ValueError:
                pass
        raise self.error(f"invalid date and time {value!r}", el, path,
                         expected="YYYY-MM-DDThh:mm:ss with optional fraction and zone")

    def date_choice(self, el, path):
        """``(date, datetime or None)`` of a DateAndDateTimeChoice element
        (``Dt`` or ``DtTm`` child); ``(None, None)`` if ``el`` is None."""
        if el is None:
            return None, None
        child = self.find(el, "Dt")
        if child is not None:
            return self.parse_date(child, f"{path}/Dt"), None
        child = self.find(el, "DtTm")
        if child is not None:
            stamp = self.parse_datetime(child, f"{path}/DtTm")
            return stamp.date(), stamp
        raise self.error("date element has neither Dt nor DtTm", el, path,
                         expected="Dt (YYYY-MM-DD) or DtTm")

    def optional_datetime(self, el, path, child):
        found = self.find(el, child)
        if found is None or not (found.text or "").strip():
            return None
        return self.parse_datetime(found, f"{path}/{child}")

    def optional_date(self, el, path, child):
        found = self.find(el, child)
        if found is None or not (found.text or "").strip():
            return None
        return self.parse_date(found, f"{path}/{child}")

    def integer(self, el, path, child):
        found = self.find(el, child)
        if found is None:
            return None
        value = (found.text or "").strip()
        if not value.isdigit():
            raise self.error(f"{value!r} is not a whole number", found, f"{path}/{child}",
                             expected="digits")
        return int(value)

    def bic(self, fin_instn_id):
        value = self.text(fin_instn_id, "BIC", "BICFI", "BICOrBEI", "AnyBIC")
        return "".join(value.split()).upper() if value else None

    def account(self, acct):
        """``(iban, other id)`` of a CashAccount element."""
        iban = self.text(acct, "Id/IBAN")
        if iban:
            return "".join(iban.split()).upper(), None
        other = self.text(acct, "Id/Othr/Id", "Id/PrtryAcct/Id", "Id/BBAN", "Id/UPIC")
        return None, other

    def party_name(self, party):
        return self.text(party, "Nm", "Pty/Nm", "Agt/FinInstnId/Nm")

    # -- document structure --------------------------------------------

    def events(self, data, container):
        ns = self.ns
        container_tag = f"{{{ns}}}{container}"
        entry_tag = f"{{{ns}}}Ntry"
        document = None
        statement_el = None
        header = None
        count = 0
        entry_count = 0
        path = None
        for event, el in xmlsafe.iterparse(data, self.file_name, events=("start", "end"),
                                           tag=(container_tag, entry_tag)):
            if el.tag == container_tag:
                parent = el.getparent()
                grandparent = parent.getparent() if parent is not None else None
                if grandparent is None or grandparent.getparent() is not None:
                    continue  # not a statement of the message
                if event == "start":
                    if document is None:
                        document = self.document(parent)
                        yield "document", document, None
                    count += 1
                    statement_el, header, entry_count = el, None, 0
                    path = f"{container}[{count}]"
                elif el is statement_el:
                    statement = self.statement(el, path, container, document)
                    yield "statement", statement, None
                    el.clear()
                    parent.remove(el)
                    statement_el = None
            elif statement_el is not None and el.getparent() is statement_el:
                if event == "start":
                    if header is None:
                        header = self.statement(statement_el, path, container, document)
                    continue
                entry_count += 1
                if header is None:
                    header = self.statement(statement_el, path, container, document)
                entry = self.entry(el, f"{path}/Ntry[{entry_count}]", header)
                yield "entry", header, entry
                el.clear()
                statement_el.remove(el)
        if not count:
            message_name = MESSAGES[self.kind][0]
            raise MalformedDocument(
                f"the {self.kind} message contains no {container} element",
                file_name=self.file_name, element=message_name,
                expected=f"at least one {container} after GrpHdr")

    def document(self, message):
        group = self.find(message, "GrpHdr")
        path = "GrpHdr"
        return BankDocument(
            kind=self.kind,
            message_id=self.text(group, "MsgId"),
            created=self.optional_datetime(group, path, "CreDtTm") if group is not None else None,
            file_name=self.file_name,
            version=self.version,
        )

    def statement(self, el, path, container, document):
        acct = self.find(el, "Acct")
        iban, other = self.account(acct)
        owner = self.find(acct, "Ownr")
        servicer = self.find(acct, "Svcr/FinInstnId")
        period = self.find(el, "FrToDt")
        from_ts = self.optional_datetime(period, f"{path}/FrToDt", "FrDtTm") if period is not None else None
        to_ts = self.optional_datetime(period, f"{path}/FrToDt", "ToDtTm") if period is not None else None
        balances = [self.balance(bal, f"{path}/Bal[{i}]")
                    for i, bal in enumerate(self.findall(el, "Bal"), 1)]
        currency = self.text(acct, "Ccy")
        if not currency and balances:
            currency = balances[0].currency
        statement = Statement(
            kind=self.kind,
            statement_id=self.text(el, "Id"),
            message_id=document.message_id if document else None,
            electronic_sequence=self.text(el, "ElctrncSeqNb"),
            legal_sequence=self.text(el, "LglSeqNb"),
            created=self.optional_datetime(el, path, "CreDtTm"),
            from_timestamp=from_ts,
            to_timestamp=to_ts,
            from_date=from_ts.date() if from_ts else None,
            to_date=to_ts.date() if to_ts else None,
            account_iban=iban,
            account_other=other,
            currency=currency.upper() if currency else None,
            account_name=self.text(acct, "Nm"),
            owner_name=self.party_name(owner),
            servicer_bic=self.bic(servicer),
            servicer_name=self.text(servicer, "Nm", "NmAndAdr/Nm"),
            balances=balances,
            additional_info=self.joined(el, _ADDITIONAL_INFO[container]),
        )
        summary = self.find(el, "TxsSummry")
        if summary is not None:
            self.summary(summary, f"{path}/TxsSummry", statement)
        return statement

    def summary(self, el, path, statement):
        total = self.find(el, "TtlNtries")
        if total is not None:
            statement.entry_count = self.integer(total, f"{path}/TtlNtries", "NbOfNtries")
            net = self.find(total, "TtlNetNtryAmt")
            net_holder = total
            if net is None:  # .001.03 and later: TtlNetNtry/Amt + CdtDbtInd
                net_holder = self.find(total, "TtlNetNtry")
                net = self.find(net_holder, "Amt")
            if net is not None:
                npath = f"{path}/TtlNtries"
                value = self.amount(net, f"{npath}/{'TtlNetNtryAmt' if net_holder is total else 'TtlNetNtry/Amt'}")
                statement.net_amount = value * self.sign(net_holder, npath, amount=value, default=1)
        for name, count_attr, sum_attr in (("TtlCdtNtries", "credit_count", "credit_sum"),
                                           ("TtlDbtNtries", "debit_count", "debit_sum")):
            part = self.find(el, name)
            if part is None:
                continue
            setattr(statement, count_attr, self.integer(part, f"{path}/{name}", "NbOfNtries"))
            sum_el = self.find(part, "Sum")
            if sum_el is not None:
                setattr(statement, sum_attr, self.amount(sum_el, f"{path}/{name}/Sum"))

    def balance(self, el, path):
        code = self.text(el, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry", "Tp/Cd", "Tp/Prtry")
        if not code:
            raise self.error("balance without type code", el, f"{path}/Tp",
                             expected="Tp/CdOrPrtry/Cd such as OPBD or CLBD")
        amt = self.find(el, "Amt")
        if amt is None:
            raise self.error("balance without amount", el, f"{path}/Amt", expected="Amt")
        value = self.amount(amt, f"{path}/Amt")
        value *= self.sign(el, path, amount=value)
        day, stamp = self.date_choice(self.find(el, "Dt"), f"{path}/Dt")
        balance = Balance(code=code.upper(), amount=value,
                          currency=(amt.get("Ccy") or "").strip().upper() or None,
                          date=day, timestamp=stamp)
        line = self.find(el, "CdtLine")
        if line is not None:
            included = self.text(line, "Incl")
            balance.credit_line_included = included.lower() in ("true", "1") if included else None
            line_amt = self.find(line, "Amt")
            if line_amt is not None:
                balance.credit_line = self.amount(line_amt, f"{path}/CdtLine/Amt")
        sub = self.text(el, "Tp/SubTp/Cd", "Tp/SubTp/Prtry")
        if sub:
            balance.extra["sub_type"] = sub
        return balance

    def joined(self, el, path, sep=" "):
        parts = [(c.text or "").strip() for c in self.findall(el, path)]
        text = sep.join(p for p in parts if p)
        return text or None

    # -- entries --------------------------------------------------------

    def entry(self, el, path, header):
        amt = self.find(el, "Amt")
        if amt is None:
            raise self.error("entry without amount", el, f"{path}/Amt",
                             expected='Amt Ccy="..." with the booked amount')
        value = self.amount(amt, f"{path}/Amt")
        sign = self.sign(el, path, amount=value)
        currency = self.currency(amt, f"{path}/Amt", default=header.currency)
        status = self.text(el, "Sts/Cd", "Sts/Prtry", "Sts")
        if not status:
            raise self.error("entry without status", el, f"{path}/Sts", expected="BOOK, PDNG or INFO")
        booking_date, booking_ts = self.date_choice(self.find(el, "BookgDt"), f"{path}/BookgDt")
        value_date, value_ts = self.date_choice(self.find(el, "ValDt"), f"{path}/ValDt")
        reversal = (self.text(el, "RvslInd") or "").lower() in ("true", "1")
        code = self.find(el, "BkTxCd")
        entry = Entry(
            amount=sign * value,
            currency=currency,
            status=status.upper(),
            booking_date=booking_date,
            value_date=value_date,
            booking_timestamp=booking_ts,
            value_timestamp=value_ts,
            entry_reference=self.text(el, "NtryRef"),
            archive_id=self.text(el, "AcctSvcrRef"),
            reversal=reversal,
            domain_code=self.text(code, "Domn/Cd"),
            family_code=self.text(code, "Domn/Fmly/Cd"),
            subfamily_code=self.text(code, "Domn/Fmly/SubFmlyCd"),
            proprietary_code=self.text(code, "Prtry/Cd"),
            proprietary_issuer=self.text(code, "Prtry/Issr"),
            additional_info=self.joined(el, "AddtlNtryInf"),
            line=el.sourceline,
        )
        batch = self.find(el, "Btch")  # .001.01 puts it on the entry
        batch_path = f"{path}/Btch"
        groups = self.findall(el, "NtryDtls")
        if batch is None:
            for i, group in enumerate(groups, 1):
                batch = self.find(group, "Btch")
                if batch is not None:
                    batch_path = f"{path}/NtryDtls[{i}]/Btch"
                    break
        if batch is not None:
            entry.batch_count = self.integer(batch, batch_path, "NbOfTxs")
            entry.batch_message_id = self.text(batch, "MsgId")
            entry.batch_payment_info_id = self.text(batch, "PmtInfId")
            total = self.find(batch, "TtlAmt")
            if total is not None:
                total_value = self.amount(total, f"{batch_path}/TtlAmt")
                entry.batch_amount = total_value * self.sign(batch, batch_path, default=sign,
                                                             amount=total_value)
        tx_elements = [(f"{path}/NtryDtls[{i}]/TxDtls[{j}]", tx)
                       for i, group in enumerate(groups, 1)
                       for j, tx in enumerate(self.findall(group, "TxDtls"), 1)]
        only = len(tx_elements) == 1
        for tx_path, tx in tx_elements:
            entry.details.append(self.detail(tx, tx_path, entry, sign, only))
        return entry

    def detail(self, el, path, entry, entry_sign, only):
        detail = TxDetail()
        amt = self.find(el, "Amt")
        amt_path = f"{path}/Amt"
        if amt is None:
            amt = self.find(el, "AmtDtls/TxAmt/Amt")
            amt_path = f"{path}/AmtDtls/TxAmt/Amt"
        instructed = self.find(el, "AmtDtls/InstdAmt/Amt")
        if instructed is not None:
            ipath = f"{path}/AmtDtls/InstdAmt/Amt"
            detail.instructed_amount = self.amount(instructed, ipath)
            detail.instructed_currency = self.currency(instructed, ipath, default=entry.currency)
        sign = self.sign(el, path, default=entry_sign)
        if amt is not None:
            detail.amount = sign * self.amount(amt, amt_path)
            detail.currency = self.currency(amt, amt_path, default=entry.currency)
        elif only:
            detail.amount, detail.currency = entry.amount, entry.currency
        elif detail.instructed_amount is not None:
            detail.amount = sign * detail.instructed_amount
            detail.currency = detail.instructed_currency

        refs = self.find(el, "Refs")
        if refs is not None:
            e2e = self.text(refs, "EndToEndId")
            detail.end_to_end_id = None if e2e and e2e.upper() in _NOT_PROVIDED else e2e
            detail.instruction_id = self.text(refs, "InstrId")
            detail.transaction_id = self.text(refs, "TxId")
            detail.payment_info_id = self.text(refs, "PmtInfId")
            detail.message_id = self.text(refs, "MsgId")
            detail.mandate_id = self.text(refs, "MndtId")
            detail.uetr = self.text(refs, "UETR")
            detail.archive_id = self.text(refs, "AcctSvcrRef")
            proprietary = self.text(refs, "Prtry/Ref")
            if proprietary:
                detail.extra["proprietary_reference"] = proprietary

        parties = self.find(el, "RltdPties")
        agents = self.find(el, "RltdAgts")
        debtor = self.find(parties, "Dbtr")
        creditor = self.find(parties, "Cdtr")
        detail.debtor_name = self.party_name(debtor)
        detail.creditor_name = self.party_name(creditor)
        detail.debtor_iban, detail.debtor_account = self.account(self.find(parties, "DbtrAcct"))
        detail.creditor_iban, detail.creditor_account = self.account(self.find(parties, "CdtrAcct"))
        detail.debtor_bic = self.bic(self.find(agents, "DbtrAgt/FinInstnId"))
        detail.creditor_bic = self.bic(self.find(agents, "CdtrAgt/FinInstnId"))
        detail.ultimate_debtor = self.party_name(self.find(parties, "UltmtDbtr"))
        detail.ultimate_creditor = self.party_name(self.find(parties, "UltmtCdtr"))
        if sign > 0:
            detail.counterparty_name = detail.debtor_name
            detail.counterparty_iban = detail.debtor_iban
            detail.counterparty_account = detail.debtor_account
            detail.counterparty_bic = detail.debtor_bic
        else:
            detail.counterparty_name = detail.creditor_name
            detail.counterparty_iban = detail.creditor_iban
            detail.counterparty_account = detail.creditor_account
            detail.counterparty_bic = detail.creditor_bic

        remittance = self.find(el, "RmtInf")
        if remittance is not None:
            detail.remittance_info = self.joined(remittance, "Ustrd")
            references = []
            additional = []
            for structured in self.findall(remittance, "Strd"):
                for ref_el in self.findall(structured, "CdtrRefInf/Ref"):
                    ref = (ref_el.text or "").strip()
                    if ref:
                        references.append(ref)
                additional.extend((a.text or "").strip()
                                  for a in self.findall(structured, "AddtlRmtInf"))
            detail.creditor_references = [_compact_reference(r) for r in references]
            if references:
                detail.creditor_reference = detail.creditor_references[0]
                detail.creditor_reference_kind = fi_reference.kind(references[0])
            detail.additional_remittance_info = " ".join(a for a in additional if a) or None

        dates = self.find(el, "RltdDts")
        if dates is not None:
            stamp = (self.optional_datetime(dates, f"{path}/RltdDts", "AccptncDtTm")
                     or self.optional_datetime(dates, f"{path}/RltdDts", "TxDtTm"))
            detail.payment_date = stamp.date() if stamp else None
            detail.settlement_date = self.optional_date(dates, f"{path}/RltdDts", "IntrBkSttlmDt")

        returned = self.find(el, "RtrInf")
        if returned is not None:
            detail.return_reason = self.text(returned, "Rsn/Cd", "Rsn/Prtry")
            detail.return_info = self.joined(returned, "AddtlInf")
        detail.proprietary_code = self.text(el, "BkTxCd/Prtry/Cd")
        detail.additional_info = self.joined(el, "AddtlTxInf")
        return detail


def _compact_reference(ref):
    """Compact form of a valid Finnish/RF reference, else the text as given."""
    return fi_reference.compact(ref) if fi_reference.kind(ref) else ref
