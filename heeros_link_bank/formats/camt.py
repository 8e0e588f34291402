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
added to the same header object when the statement's end tag is read: once
a caller has consumed a statement's entries, its header holds what
:func:`parse` returns. Both functions read the file the same way (one
streaming path); :func:`parse` only keeps the entries.

Lenient where banks are known to vary, never guessing: values are stripped,
BICs and IBANs lose padding spaces, ``EndToEndId`` ``NOTPROVIDED`` counts as
absent, an unquoted XML declaration is repaired by xmlsafe, an ``Amt``
without ``Ccy`` takes the account's currency (``Acct/Ccy``, else that of the
first balance) and a zero amount may omit ``CdtDbtInd``. A detail without an
amount of its own takes the entry's when it is the entry's only detail (and
otherwise its instructed amount, or none). The counterparty of a detail is
the debtor for money in and the creditor for money out, never the other
side as a fallback. Charges (``Chrgs``) and the first exchange between two
different currencies (``AmtDtls/*/CcyXchg``) are read for entries and
details alike. An amount that is
not a number, a date that does not exist, a missing mandatory amount, credit
/debit indicator or status raises :class:`RecordError` naming the file, the
element path (``Stmt[2]/Ntry[5]/Amt``) and the line. A root that is not a
camt.052/053/054 ``Document`` raises :class:`UnrecognisedDocument`; a message
without any statement raises :class:`MalformedDocument`.
"""

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from odoo.addons.heeros_link_base.formats import limits, xmlsafe
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import (
    MalformedDocument,
    RecordError,
    UnrecognisedDocument,
)

from .statement import Balance, BankDocument, Entry, Exchange, Statement, TxDetail

_NAMESPACE_RE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:(camt\.05[234])\.001\.(\d+)")

#: kind -> (message element name prefix, statement element name)
MESSAGES = {
    "camt.052": ("BkToCstmrAcctRpt", "Rpt"),
    "camt.053": ("BkToCstmrStmt", "Stmt"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
_ADDITIONAL_INFO = {"Rpt": "AddtlRptInf", "Stmt": "AddtlStmtInf", "Ntfctn": "AddtlNtfctnInf"}

_AMOUNT_RE = re.compile(r"\d+(\.\d+)?", re.ASCII)
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?", re.ASCII)
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}:?\d{2})?", re.ASCII
)
_NOT_PROVIDED = {"NOTPROVIDED", "NOT PROVIDED"}
_MAX_COUNT_DIGITS = 15


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
    entries) shared by all its entries. A statement without any entry is
    yielded once as ``(statement, None)`` so that its balances are not lost.
    """
    current = None
    for event, header, entry in _events(data, file_name):
        if event == "entry":
            current = header
            yield header, entry
        elif event == "statement":
            if current is None:
                yield header, None
            else:
                _complete(current, header)
            current = None


def _complete(header, statement):
    """Fill the header of a streamed statement in place with what the whole
    statement says (a balance or text after the entries), so that a caller
    who has consumed the entries sees what :func:`parse` returns."""
    for name in Statement.__dataclass_fields__:
        if name != "entries":
            setattr(header, name, getattr(statement, name))


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
    expected = "a <Document> in namespace urn:iso:std:iso:20022:tech:xsd:camt.052/053/054.001.nn"
    if not sniff.is_xml or sniff.root != "Document" or kind is None:
        raise UnrecognisedDocument(
            f"not a camt.052, camt.053 or camt.054 document: {sniff.describe()}", file_name=file_name, expected=expected
        )
    message_name, container = MESSAGES[kind]
    if sniff.first_child and not sniff.first_child.startswith(message_name):
        raise UnrecognisedDocument(
            f"{kind} document whose message element is <{sniff.first_child}>",
            file_name=file_name,
            element=sniff.first_child,
            expected=f"<{message_name}>",
        )
    reader = _Reader(sniff.namespace, kind, f"{kind}.001.{version}", file_name)
    yield from reader.events(data, container)


class _Reader:
    """Turns the elements of one camt document into data classes."""

    def __init__(self, ns, kind, version, file_name):
        self.ns = ns
        self.kind = kind
        self.version = version
        self.file_name = file_name
        self.prefix = f"{{{ns}}}"
        self._paths = {}
        self._local = {}

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
        return RecordError(
            message,
            file_name=self.file_name,
            element=path,
            line=el.sourceline if el is not None else None,
            expected=expected,
        )

    def amount(self, el, path):
        """The decimal value of an amount element."""
        value = (el.text or "").strip()
        if not _AMOUNT_RE.fullmatch(value):
            raise self.error(
                f"amount {_shorten(value)!r} is not a number",
                el,
                path,
                expected="a non-negative decimal number such as 1234.56",
            )
        return self.bounded(Decimal(value), el, path, value)

    def bounded(self, number, el, path, text=None):
        """``number`` if it is within :data:`limits.MAX_AMOUNT`, else a
        :class:`RecordError` naming the element."""
        return limits.check_amount(
            number, file_name=self.file_name, element=path, line=el.sourceline if el is not None else None, text=text
        )

    def currency(self, el, path, default=None):
        ccy = (el.get("Ccy") or "").strip().upper()
        if not ccy:
            if default:
                return default
            raise self.error("amount without currency (Ccy attribute)", el, path, expected='Amt Ccy="EUR"')
        return ccy

    def sign(self, el, path, amount=None, default=None):
        """+1 for CRDT, -1 for DBIT of the ``CdtDbtInd`` child of ``el``."""
        return self.sign_of(self.find(el, "CdtDbtInd"), el, path, amount, default)

    def sign_of(self, cdi_el, parent, path, amount=None, default=None):
        """+1 for CRDT, -1 for DBIT of a ``CdtDbtInd`` element (or None)."""
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
            f"credit/debit indicator {cdi!r} is neither CRDT nor DBIT"
            if cdi
            else "credit/debit indicator (CdtDbtInd) is missing",
            cdi_el if cdi_el is not None else parent,
            f"{path}/CdtDbtInd",
            expected="CRDT or DBIT",
        )

    def parse_date(self, el, path):
        value = (el.text or "").strip()
        match = _DATE_RE.fullmatch(value)
        try:
            if match:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
        raise self.error(f"invalid date {_shorten(value)!r}", el, path, expected="a date YYYY-MM-DD")

    def parse_datetime(self, el, path):
        value = (el.text or "").strip()
        match = _DATETIME_RE.fullmatch(value)
        if match:
            year, month, day, hour, minute, second, fraction, zone = match.groups()
            micro = int((fraction or "0")[:6].ljust(6, "0"))
            tzinfo = None
            try:
                if zone == "Z":
                    tzinfo = UTC
                elif zone:
                    zone = zone.replace(":", "")
                    minutes = int(zone[1:3]) * 60 + int(zone[3:5])
                    tzinfo = timezone(timedelta(minutes=-minutes if zone[0] == "-" else minutes))
                return datetime(
                    int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=tzinfo
                )
            except ValueError:
                pass
        raise self.error(
            f"invalid date and time {_shorten(value)!r}",
            el,
            path,
            expected="YYYY-MM-DDThh:mm:ss with optional fraction and zone",
        )

    def date_choice(self, el, path):
        """``(date, datetime or None)`` of a DateAndDateTimeChoice element
        (``Dt`` or ``DtTm`` child); ``(None, None)`` if ``el`` is None."""
        if el is None:
            return None, None
        kids = self.kids(el)
        child = kids.get("Dt")
        if child is not None:
            return self.parse_date(child, f"{path}/Dt"), None
        child = kids.get("DtTm")
        if child is not None:
            stamp = self.parse_datetime(child, f"{path}/DtTm")
            return stamp.date(), stamp
        raise self.error("date element has neither Dt nor DtTm", el, path, expected="Dt (YYYY-MM-DD) or DtTm")

    def optional_datetime(self, el, path, child):
        found = self.find(el, child)
        if found is None or not (found.text or "").strip():
            return None
        return self.parse_datetime(found, f"{path}/{child}")

    def integer(self, el, path, child):
        found = self.find(el, child)
        if found is None:
            return None
        return self.whole(found, f"{path}/{child}")

    def whole(self, el, path):
        """A count (``NbOfNtries``, ``NbOfTxs``): ASCII digits, at most 15."""
        value = (el.text or "").strip()
        if not value.isascii() or not value.isdecimal() or len(value) > _MAX_COUNT_DIGITS:
            raise self.error(
                f"{_shorten(value)!r} is not a whole number", el, path, expected=f"at most {_MAX_COUNT_DIGITS} digits"
            )
        return int(value)

    def kids(self, el):
        """``{local name: first child element}`` of ``el`` (one pass over its
        children; much cheaper than one ``find`` per field)."""
        if el is None:
            return _NO_KIDS
        local = self._local
        found = {}
        for child in el:
            tag = child.tag
            name = local.get(tag)
            if name is None:
                name = local[tag] = (
                    tag.rsplit("}", 1)[-1] if isinstance(tag, str) and tag.startswith(self.prefix) else ""
                )
            if name and name not in found:
                found[name] = child
        return found

    def each(self, el, name):
        """All children of ``el`` named ``name``."""
        if el is None:
            return []
        return el.iterchildren(self.prefix + name)

    def each_text(self, el, name, sep=" "):
        """The texts of all ``name`` children of ``el``, joined (None if none)."""
        parts = [_text(child) for child in self.each(el, name)]
        return sep.join(p for p in parts if p) or None

    def bic(self, fin_instn_id):
        kids = self.kids(fin_instn_id)
        value = (
            _text(kids.get("BIC"))
            or _text(kids.get("BICFI"))
            or _text(kids.get("BICOrBEI"))
            or _text(kids.get("AnyBIC"))
        )
        return "".join(value.split()).upper() if value else None

    def agent_bic(self, agent):
        return self.bic(self.kids(agent).get("FinInstnId")) if agent is not None else None

    def account(self, acct):
        """``(iban, other id)`` of a CashAccount element."""
        ident = self.kids(self.kids(acct).get("Id"))
        iban = _text(ident.get("IBAN"))
        if iban:
            return "".join(iban.split()).upper(), None
        for name in ("Othr", "PrtryAcct"):
            other = _text(self.kids(ident.get(name)).get("Id"))
            if other:
                return None, other
        return None, _text(ident.get("BBAN")) or _text(ident.get("UPIC"))

    def party_org_id(self, party):
        """The first ``Id/OrgId/Othr/Id`` of a party (directly or under
        ``Pty``): a business id such as a Finnish Y-tunnus. Private persons'
        ids (``PrvtId``) are deliberately not read."""
        if party is None:
            return None
        kids = self.kids(party)
        if kids.get("Pty") is not None:
            kids = self.kids(kids["Pty"])
        org = self.kids(self.kids(kids.get("Id")).get("OrgId"))
        return _text(self.kids(org.get("Othr")).get("Id"))

    def party_name(self, party):
        """``Nm`` of a party, directly or under ``Pty`` (.001.08 and later)
        or, for an agent standing as party, its institution's name."""
        if party is None:
            return None
        kids = self.kids(party)
        name = _text(kids.get("Nm"))
        if name:
            return name
        pty = kids.get("Pty")
        if pty is not None:
            return _text(self.kids(pty).get("Nm"))
        agent = kids.get("Agt")
        if agent is not None:
            return _text(self.kids(self.kids(agent).get("FinInstnId")).get("Nm"))
        return None

    # -- document structure --------------------------------------------

    def events(self, data, container):
        ns = self.ns
        container_tag = f"{{{ns}}}{container}"
        entry_tag = f"{{{ns}}}Ntry"
        document = message = None
        statement_el = None
        header = None
        count = 0
        entry_count = 0
        path = None
        # Elements are cleared when read but only detached from the tree
        # once the parser is past them (the next sibling has been read):
        # the parser may still add the tail text of the element just ended.
        done_statement = None
        done_entry = None
        for event, el in xmlsafe.iterparse(
            data, self.file_name, events=("start", "end"), tag=(container_tag, entry_tag)
        ):
            if el.tag == container_tag:
                parent = el.getparent()
                grandparent = parent.getparent() if parent is not None else None
                if grandparent is None or grandparent.getparent() is not None:
                    continue  # not a statement of the message
                if event == "start":
                    if document is None:
                        message = parent
                        document = self.document(parent)
                        yield "document", document, None
                    elif parent is not message:
                        raise self.second_message(parent, message)
                    count += 1
                    statement_el, header, entry_count = el, None, 0
                    path = f"{container}[{count}]"
                elif el is statement_el:
                    if done_entry is not None:
                        el.remove(done_entry)
                        done_entry = None
                    statement = self.statement(el, path, container, document)
                    yield "statement", statement, None
                    el.clear(keep_tail=True)
                    if done_statement is not None:
                        done_statement.getparent().remove(done_statement)
                    done_statement = el
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
                el.clear(keep_tail=True)
                if done_entry is not None:
                    statement_el.remove(done_entry)
                done_entry = el
        if not count:
            message_name = MESSAGES[self.kind][0]
            raise MalformedDocument(
                f"the {self.kind} message contains no {container} element",
                file_name=self.file_name,
                element=message_name,
                expected=f"at least one {container} after GrpHdr",
            )

    def second_message(self, el, first):
        """The error for a ``Document`` holding a second message element."""
        name = xmlsafe.local(el.tag)
        return MalformedDocument(
            f"the document holds a second message element <{name}> after <{xmlsafe.local(first.tag)}>",
            file_name=self.file_name,
            line=el.sourceline,
            element=f"Document/{name}[2]" if el.tag == first.tag else f"Document/{name}",
            expected=f"one <{MESSAGES[self.kind][0]}> per document",
        )

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
        balances = [self.balance(bal, f"{path}/Bal[{i}]") for i, bal in enumerate(self.findall(el, "Bal"), 1)]
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
        for name, count_attr, sum_attr in (
            ("TtlCdtNtries", "credit_count", "credit_sum"),
            ("TtlDbtNtries", "debit_count", "debit_sum"),
        ):
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
            raise self.error(
                "balance without type code", el, f"{path}/Tp", expected="Tp/CdOrPrtry/Cd such as OPBD or CLBD"
            )
        amt = self.find(el, "Amt")
        if amt is None:
            raise self.error("balance without amount", el, f"{path}/Amt", expected="Amt")
        value = self.amount(amt, f"{path}/Amt")
        value *= self.sign(el, path, amount=value)
        day, stamp = self.date_choice(self.find(el, "Dt"), f"{path}/Dt")
        balance = Balance(
            code=code.upper(),
            amount=value,
            currency=(amt.get("Ccy") or "").strip().upper() or None,
            date=day,
            timestamp=stamp,
        )
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
        kids = self.kids(el)
        amt = kids.get("Amt")
        if amt is None:
            raise self.error("entry without amount", el, f"{path}/Amt", expected='Amt Ccy="..." with the booked amount')
        value = self.amount(amt, f"{path}/Amt")
        sign = self.sign_of(kids.get("CdtDbtInd"), el, path, amount=value)
        currency = self.currency(amt, f"{path}/Amt", default=header.currency)
        status_el = kids.get("Sts")
        status_kids = self.kids(status_el)
        status = _text(status_kids.get("Cd")) or _text(status_kids.get("Prtry")) or _text(status_el)
        if not status:
            raise self.error(
                "entry without status",
                status_el if status_el is not None else el,
                f"{path}/Sts",
                expected="BOOK, PDNG or INFO",
            )
        booking_date, booking_ts = self.date_choice(kids.get("BookgDt"), f"{path}/BookgDt")
        value_date, value_ts = self.date_choice(kids.get("ValDt"), f"{path}/ValDt")
        reversal = (_text(kids.get("RvslInd")) or "").lower() in ("true", "1")
        code = self.kids(kids.get("BkTxCd"))
        domain = self.kids(code.get("Domn"))
        family = self.kids(domain.get("Fmly"))
        proprietary = self.kids(code.get("Prtry"))
        entry = Entry(
            amount=sign * value,
            currency=currency,
            status=status.upper(),
            booking_date=booking_date,
            value_date=value_date,
            booking_timestamp=booking_ts,
            value_timestamp=value_ts,
            entry_reference=_text(kids.get("NtryRef")),
            archive_id=_text(kids.get("AcctSvcrRef")),
            reversal=reversal,
            domain_code=_text(domain.get("Cd")),
            family_code=_text(family.get("Cd")),
            subfamily_code=_text(family.get("SubFmlyCd")),
            proprietary_code=_text(proprietary.get("Cd")),
            proprietary_issuer=_text(proprietary.get("Issr")),
            additional_info=self.each_text(el, "AddtlNtryInf"),
            line=el.sourceline,
        )
        batch = kids.get("Btch")  # .001.01 puts it on the entry
        batch_path = f"{path}/Btch"
        groups = list(self.each(el, "NtryDtls")) if "NtryDtls" in kids else []
        tx_elements = []
        for i, group in enumerate(groups, 1):
            group_kids = self.kids(group)
            if batch is None and "Btch" in group_kids:
                batch = group_kids["Btch"]
                batch_path = f"{path}/NtryDtls[{i}]/Btch"
            if "TxDtls" in group_kids:
                tx_elements.extend(
                    (f"{path}/NtryDtls[{i}]/TxDtls[{j}]", tx) for j, tx in enumerate(self.each(group, "TxDtls"), 1)
                )
        if batch is not None:
            self.batch(batch, batch_path, entry, sign)
        if "AmtDtls" in kids:
            entry.exchange = self.exchange(self.kids(kids["AmtDtls"]), f"{path}/AmtDtls")
        if "Chrgs" in kids:
            entry.charges = self.charges(el, path, currency)
        only = len(tx_elements) == 1
        for tx_path, tx in tx_elements:
            entry.details.append(self.detail(tx, tx_path, entry, sign, only))
        return entry

    def exchange(self, amounts, path):
        """The first ``CcyXchg`` of an ``AmtDtls`` (instructed, transaction,
        counter value, then announced amount) between two different
        currencies, as an :class:`Exchange`; None if there is none."""
        for part in ("InstdAmt", "TxAmt", "CntrValAmt", "AnncdPstngAmt"):
            xchg = self.kids(self.kids(amounts.get(part)).get("CcyXchg"))
            rate = xchg.get("XchgRate")
            if rate is None:
                continue
            source, target = _text(xchg.get("SrcCcy")), _text(xchg.get("TrgtCcy"))
            if source and target and source.upper() == target.upper():
                continue
            value = (rate.text or "").strip()
            if not _AMOUNT_RE.fullmatch(value):
                raise self.error(
                    f"exchange rate {value!r} is not a number",
                    rate,
                    f"{path}/{part}/CcyXchg/XchgRate",
                    expected="a positive decimal number such as 1.0856",
                )
            return Exchange(
                self.bounded(Decimal(value), rate, f"{path}/{part}/CcyXchg/XchgRate", value),
                source and source.upper(),
                target and target.upper(),
                (_text(xchg.get("UnitCcy")) or "").upper() or None,
            )
        return None

    def charges(self, el, path, default_currency):
        """The charges of an entry or detail by currency. .001.02 and .001.03
        repeat ``Chrgs``, each with its ``Amt``; later versions have one
        ``Chrgs`` with ``TtlChrgsAndTaxAmt`` and ``Rcrd`` items. The total,
        where given, counts; else the items, credited ones negative."""
        totals = {}
        for i, charges in enumerate(self.each(el, "Chrgs"), 1):
            cpath = f"{path}/Chrgs[{i}]"
            kids = self.kids(charges)
            total = kids.get("TtlChrgsAndTaxAmt")
            if total is not None:
                ccy = self.currency(total, f"{cpath}/TtlChrgsAndTaxAmt", default=default_currency)
                totals[ccy] = totals.get(ccy, 0) + self.amount(total, f"{cpath}/TtlChrgsAndTaxAmt")
                if "Rcrd" in kids:
                    continue
                break  # .001.02: the first total covers every Chrgs
            records = [(f"{cpath}/Rcrd[{j}]", rec) for j, rec in enumerate(self.each(charges, "Rcrd"), 1)] or [
                (cpath, charges)
            ]
            for rpath, record in records:
                rkids = self.kids(record)
                amount = rkids.get("Amt")
                if amount is None:
                    continue
                value = self.amount(amount, f"{rpath}/Amt")
                ccy = self.currency(amount, f"{rpath}/Amt", default=default_currency)
                sign = -1 if (_text(rkids.get("CdtDbtInd")) or "").upper() == "CRDT" else 1
                totals[ccy] = totals.get(ccy, 0) + sign * value
        return totals

    def batch(self, el, path, entry, sign):
        kids = self.kids(el)
        count = kids.get("NbOfTxs")
        if count is not None:
            entry.batch_count = self.whole(count, f"{path}/NbOfTxs")
        entry.batch_message_id = _text(kids.get("MsgId"))
        entry.batch_payment_info_id = _text(kids.get("PmtInfId"))
        total = kids.get("TtlAmt")
        if total is not None:
            total_value = self.amount(total, f"{path}/TtlAmt")
            entry.batch_amount = total_value * self.sign_of(
                kids.get("CdtDbtInd"), el, path, amount=total_value, default=sign
            )

    def detail(self, el, path, entry, entry_sign, only):
        detail = TxDetail()
        kids = self.kids(el)
        amounts = self.kids(kids.get("AmtDtls"))
        amt = kids.get("Amt")
        amt_path = f"{path}/Amt"
        if amt is None:
            amt = self.kids(amounts.get("TxAmt")).get("Amt")
            amt_path = f"{path}/AmtDtls/TxAmt/Amt"
        instructed = self.kids(amounts.get("InstdAmt")).get("Amt")
        if instructed is not None:
            ipath = f"{path}/AmtDtls/InstdAmt/Amt"
            detail.instructed_amount = self.amount(instructed, ipath)
            detail.instructed_currency = self.currency(instructed, ipath, default=entry.currency)
        if amounts:
            detail.exchange = self.exchange(amounts, f"{path}/AmtDtls")
        if "Chrgs" in kids:
            detail.charges = self.charges(el, path, entry.currency)
        sign = self.sign_of(kids.get("CdtDbtInd"), el, path, default=entry_sign)
        if amt is not None:
            detail.amount = sign * self.amount(amt, amt_path)
            detail.currency = self.currency(amt, amt_path, default=entry.currency)
        elif only:
            detail.amount, detail.currency = entry.amount, entry.currency
        elif detail.instructed_amount is not None:
            detail.amount = sign * detail.instructed_amount
            detail.currency = detail.instructed_currency

        refs = kids.get("Refs")
        if refs is not None:
            refs = self.kids(refs)
            e2e = _text(refs.get("EndToEndId"))
            detail.end_to_end_id = None if e2e and e2e.upper() in _NOT_PROVIDED else e2e
            detail.instruction_id = _text(refs.get("InstrId"))
            detail.transaction_id = _text(refs.get("TxId"))
            detail.payment_info_id = _text(refs.get("PmtInfId"))
            detail.message_id = _text(refs.get("MsgId"))
            detail.mandate_id = _text(refs.get("MndtId"))
            detail.uetr = _text(refs.get("UETR"))
            detail.archive_id = _text(refs.get("AcctSvcrRef"))
            proprietary = _text(self.kids(refs.get("Prtry")).get("Ref"))
            if proprietary:
                detail.extra["proprietary_reference"] = proprietary

        parties = self.kids(kids.get("RltdPties"))
        agents = self.kids(kids.get("RltdAgts"))
        if parties:
            detail.debtor_name = self.party_name(parties.get("Dbtr"))
            detail.creditor_name = self.party_name(parties.get("Cdtr"))
            detail.debtor_iban, detail.debtor_account = self.account(parties.get("DbtrAcct"))
            detail.creditor_iban, detail.creditor_account = self.account(parties.get("CdtrAcct"))
            detail.ultimate_debtor = self.party_name(parties.get("UltmtDbtr"))
            detail.ultimate_creditor = self.party_name(parties.get("UltmtCdtr"))
            for role in ("Dbtr", "Cdtr"):
                org_id = self.party_org_id(parties.get(role))
                if org_id:
                    detail.extra["debtor_id" if role == "Dbtr" else "creditor_id"] = org_id
        if agents:
            detail.debtor_bic = self.agent_bic(agents.get("DbtrAgt"))
            detail.creditor_bic = self.agent_bic(agents.get("CdtrAgt"))
        counterparty_id = detail.extra.get("debtor_id" if sign > 0 else "creditor_id")
        if counterparty_id:
            detail.extra["counterparty_id"] = counterparty_id
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

        remittance = kids.get("RmtInf")
        if remittance is not None:
            detail.remittance_info = self.each_text(remittance, "Ustrd")
            references = []
            additional = []
            for structured in self.each(remittance, "Strd"):
                for ref_info in self.each(structured, "CdtrRefInf"):
                    ref = _text(self.kids(ref_info).get("Ref"))
                    if ref:
                        references.append(ref)
                extra_text = self.each_text(structured, "AddtlRmtInf")
                if extra_text:
                    additional.append(extra_text)
            if references:
                detail.creditor_references = [fi_reference.normalise(r) for r in references]
                detail.creditor_reference = detail.creditor_references[0]
                detail.creditor_reference_kind = fi_reference.kind(references[0])
            detail.additional_remittance_info = " ".join(additional) or None

        dates = kids.get("RltdDts")
        if dates is not None:
            dates = self.kids(dates)
            dpath = f"{path}/RltdDts"
            stamp_el = dates.get("AccptncDtTm")
            stamp_path = f"{dpath}/AccptncDtTm"
            if _text(stamp_el) is None:
                stamp_el, stamp_path = dates.get("TxDtTm"), f"{dpath}/TxDtTm"
            if _text(stamp_el) is not None:
                detail.payment_date = self.parse_datetime(stamp_el, stamp_path).date()
            settled = dates.get("IntrBkSttlmDt")
            if _text(settled) is not None:
                detail.settlement_date = self.parse_date(settled, f"{dpath}/IntrBkSttlmDt")

        returned = kids.get("RtrInf")
        if returned is not None:
            reason = self.kids(self.kids(returned).get("Rsn"))
            detail.return_reason = _text(reason.get("Cd")) or _text(reason.get("Prtry"))
            detail.return_info = self.each_text(returned, "AddtlInf")
        code = kids.get("BkTxCd")
        if code is not None:
            detail.proprietary_code = _text(self.kids(self.kids(code).get("Prtry")).get("Cd"))
        if "AddtlTxInf" in kids:
            detail.additional_info = self.each_text(el, "AddtlTxInf")
        return detail


def _text(el):
    """Stripped text of an element; None for no element or no text."""
    if el is None:
        return None
    value = el.text
    if value is None:
        return None
    value = value.strip()
    return value or None


_NO_KIDS = {}


def _shorten(value, limit=40):
    """A value as shown in an error: long ones cut in the middle."""
    if len(value) <= limit:
        return value
    return f"{value[:20]}...{value[-10:]} ({len(value)} characters)"
