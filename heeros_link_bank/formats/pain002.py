"""ISO 20022 pain.002 customer payment status report: the bank's answer to
a pain.001.

Finnish banks send several for one payment file: a technical
acknowledgement of the whole file (group status only: ``ACTC`` accepted,
``RJCT`` rejected), then the result of each payment information and each
transaction (``ACCP``, ``ACSP``, ``ACSC``, ``PART``, ``PDNG``, ``RJCT`` with
reasons). :func:`parse` reads all of them the same way into a
:class:`Report`, whatever the version (pain.002.001.03 to .001.12, and
national variants that keep the structure): elements are found by local
name, ``Rsn/Cd`` or ``Rsn/Prtry``, ``BIC`` or ``BICFI``.

A status that a level does not state is the status of the level above
(a transaction without ``TxSts`` in a payment information ``ACCP`` is
``ACCP``). Every reason comes with an English and a Finnish explanation
(:data:`REASONS`); the bank's own words are kept in ``additional``.

The document is streamed: each ``TxInfAndSts`` is dropped from the tree
once read, so a report on a hundred thousand payments reads in flat
memory. Missing mandatory elements raise :class:`RecordError` naming the
element and the line.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from odoo.addons.heeros_link_base.formats import limits, xmlsafe
from odoo.addons.heeros_link_base.formats.errors import (
    LinkFormatError,
    MalformedDocument,
    UnrecognisedDocument,
)

from .iso_reader import IsoElementReader

_NAMESPACE_RE = re.compile(r"pain\.002\.001\.(\d{2})")
MIN_VERSION, MAX_VERSION = 3, 12
_STATUS_RE = re.compile(r"[A-Z0-9]{1,4}")
_AMOUNT_RE = re.compile(r"\d{1,18}(\.\d{1,5})?", re.ASCII)
# what some bank files carry after the end of the document (a stray byte
# of a broken encoding, a NUL): dropped when it is this short and no markup
_MAX_TRAILING_JUNK = 16

#: status code -> (English, Finnish)
STATUSES = {
    "RCVD": ("Received", "Vastaanotettu"),
    "ACTC": ("Accepted technical validation", "Hyväksytty teknisessä tarkastuksessa"),
    "ACCP": ("Accepted customer profile", "Hyväksytty asiakastietojen tarkastuksessa"),
    "ACSP": ("Accepted, settlement in process", "Hyväksytty, maksu käsittelyssä"),
    "ACSC": ("Accepted, settlement completed", "Hyväksytty, maksu veloitettu"),
    "ACCC": ("Accepted, credited to the creditor", "Hyväksytty, hyvitetty saajalle"),
    "ACWC": ("Accepted with change", "Hyväksytty muutettuna"),
    "ACWP": ("Accepted without posting", "Hyväksytty ilman kirjausta"),
    "ACFC": ("Accepted, funds checked", "Hyväksytty, kate tarkastettu"),
    "PART": ("Partially accepted", "Osittain hyväksytty"),
    "PATC": ("Partially accepted technical validation", "Osittain hyväksytty teknisessä tarkastuksessa"),
    "PDNG": ("Pending", "Odottaa käsittelyä"),
    "RJCT": ("Rejected", "Hylätty"),
    "CANC": ("Cancelled", "Peruttu"),
}
#: the statuses after which nothing more will happen to a payment
FINAL_STATUSES = frozenset({"ACSC", "ACCC", "RJCT", "CANC"})
REJECTED = "RJCT"

#: ISO external status reason code -> (English, Finnish), those Finnish
#: banks use in their payment status reports
REASONS = {
    "AC01": ("Account number is incorrect or its format is wrong", "Tilinumero on virheellinen tai väärää muotoa"),
    "AC02": ("Debtor account number is invalid or missing", "Maksajan tilinumero puuttuu tai on virheellinen"),
    "AC03": ("Creditor account number is invalid or missing", "Saajan tilinumero puuttuu tai on virheellinen"),
    "AC04": ("Account is closed", "Tili on lopetettu"),
    "AC05": ("Debtor account is closed", "Maksajan tili on lopetettu"),
    "AC06": ("Account is blocked", "Tili on estetty"),
    "AC13": ("Debtor account type is not allowed for this payment", "Maksajan tilityyppi ei salli maksua"),
    "AG01": ("Transaction is not allowed on this account", "Tapahtuma ei ole sallittu tällä tilillä"),
    "AG02": ("Payment type or code is not valid", "Maksun tyyppi tai koodi on virheellinen"),
    "AM01": ("Amount is zero", "Summa on nolla"),
    "AM02": ("Amount is above the allowed maximum", "Summa ylittää sallitun enimmäismäärän"),
    "AM03": ("Currency is not allowed", "Valuutta ei ole sallittu"),
    "AM04": ("Insufficient funds", "Tilillä ei ole katetta"),
    "AM05": ("Duplicate payment", "Maksu on kaksinkertainen"),
    "AM09": ("Amount is wrong", "Summa on väärä"),
    "AM10": ("Control sum is wrong", "Tarkistussumma on väärä"),
    "BE04": ("Creditor address is missing or incorrect", "Saajan osoite puuttuu tai on virheellinen"),
    "BE05": ("Initiating party is not recognised", "Maksun lähettäjää ei tunnistettu"),
    "BE06": ("Party is not known to the bank", "Osapuoli ei ole pankin tiedossa"),
    "CH03": ("Execution date is too far in the future", "Eräpäivä on liian kaukana tulevaisuudessa"),
    "CH11": ("Creditor identifier is wrong", "Saajan tunniste on virheellinen"),
    "CNOR": ("Creditor's bank is not registered in the clearing system", "Saajan pankki ei ole selvitysjärjestelmässä"),
    "CURR": ("Currency is wrong", "Valuutta on väärä"),
    "DNOR": ("Debtor's bank is not registered in the clearing system", "Maksajan pankki ei ole selvitysjärjestelmässä"),
    "DS02": ("Cancelled by an authorised user", "Valtuutettu käyttäjä perui maksun"),
    "DT01": ("Date is invalid", "Päivämäärä on virheellinen"),
    "DU01": ("Message id is not unique", "Sanoman tunniste ei ole yksilöllinen"),
    "DU02": ("Payment information id is not unique", "Maksuerän tunniste ei ole yksilöllinen"),
    "DU05": ("Instruction id is not unique", "Maksun tunniste ei ole yksilöllinen"),
    "FF01": ("File format is incorrect", "Tiedoston muoto on virheellinen"),
    "FF05": ("Local instrument code is wrong", "Paikallinen maksutapakoodi on virheellinen"),
    "MD07": ("Debtor is deceased", "Maksaja on kuollut"),
    "MS02": ("Reason not specified by the creditor", "Saaja ei ilmoittanut syytä"),
    "MS03": ("Reason not specified by the bank", "Pankki ei ilmoittanut syytä"),
    "NARR": ("Reason given in the text", "Syy on kerrottu tekstinä"),
    "RC01": ("Bank identifier (BIC) is incorrect", "Pankin tunniste (BIC) on virheellinen"),
    "RF01": ("Reference is not unique or is invalid", "Viite on virheellinen"),
    "RR01": (
        "Debtor account or identification missing (regulatory)",
        "Maksajan tili tai tunniste puuttuu (viranomaisvaatimus)",
    ),
    "RR03": ("Creditor name or address missing (regulatory)", "Saajan nimi tai osoite puuttuu (viranomaisvaatimus)"),
    "RR04": ("Regulatory reason", "Viranomaismääräys"),
    "TM01": ("Received after the cut-off time", "Vastaanotettu määräajan jälkeen"),
}


@dataclass
class Reason:
    """Why a status was given: the ISO code (or the bank's own), its
    explanation in English and Finnish, and the bank's words (``AddtlInf``)."""

    code: str | None
    text_en: str
    text_fi: str
    additional: tuple = ()


@dataclass
class TxStatus:
    """Status of one credit transfer of the original message."""

    end_to_end_id: str | None
    status: str | None
    reasons: list = field(default_factory=list)
    original_instruction_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None


@dataclass
class InfoStatus:
    """Status of one payment information (``PmtInf``) of the original message."""

    payment_info_id: str
    status: str | None
    reasons: list = field(default_factory=list)
    transactions: list = field(default_factory=list)


@dataclass
class Report:
    """One pain.002 message."""

    message_id: str
    original_message_id: str
    original_message_type: str | None
    group_status: str | None
    group_reasons: list = field(default_factory=list)
    infos: list = field(default_factory=list)
    created: datetime | None = None
    version: str | None = None

    @property
    def transactions(self):
        return [tx for info in self.infos for tx in info.transactions]

    @property
    def rejected(self):
        """Every rejected credit transfer."""
        return [tx for tx in self.transactions if tx.status == REJECTED]


def status_text(code, lang="en"):
    """The explanation of a status code in English (``'en'``) or Finnish (``'fi'``)."""
    texts = STATUSES.get(code)
    if texts is None:
        return f"Status {code}" if lang == "en" else f"Tila {code}"
    return texts[0] if lang == "en" else texts[1]


def reason(code, additional=()):
    """A :class:`Reason` for ``code`` with the explanations of :data:`REASONS`."""
    additional = tuple(additional)
    if code is None:
        return Reason(None, "No reason code given", "Syykoodia ei annettu", additional)
    texts = REASONS.get(code)
    if texts is None:
        return Reason(code, f"Reason {code} (see the bank's text)", f"Syy {code} (katso pankin teksti)", additional)
    return Reason(code, texts[0], texts[1], additional)


def pain002_kind(namespace):
    """The version (``'03'`` ... ``'12'``) of a pain.002 namespace, else None."""
    match = _NAMESPACE_RE.search(namespace or "")
    if not match or not MIN_VERSION <= int(match.group(1)) <= MAX_VERSION:
        return None
    return match.group(1)


def is_pain002(root_or_bytes):
    """True for a pain.002 payment status report: a ``Document`` in a
    pain.002.001.03 to .12 namespace whose message is ``CstmrPmtStsRpt``.

    Takes a :class:`~heeros_link_base.formats.xmlsafe.Sniff` (as the
    detectors of :mod:`.detect` do), an lxml root element or raw bytes."""
    if isinstance(root_or_bytes, bytes | bytearray | memoryview):
        try:
            root_or_bytes = xmlsafe.sniff(bytes(root_or_bytes))
        except LinkFormatError:  # empty, unsafe: not a report either
            return False
    if isinstance(root_or_bytes, xmlsafe.Sniff):
        sniff = root_or_bytes
        return (
            sniff.is_xml
            and sniff.root == "Document"
            and pain002_kind(sniff.namespace) is not None
            and sniff.first_child in ("CstmrPmtStsRpt", "")
        )
    tag = getattr(root_or_bytes, "tag", None)
    if not isinstance(tag, str) or xmlsafe.local(tag) != "Document":
        return False
    if pain002_kind(xmlsafe.namespace(tag)) is None:
        return False
    first = next((child for child in root_or_bytes if isinstance(child.tag, str)), None)
    return first is not None and xmlsafe.local(first.tag) == "CstmrPmtStsRpt"


def _strip_trailing_junk(data):
    end = data.rfind(b">")
    if end < 0:
        return data
    tail = data[end + 1 :]
    if tail.strip() and len(tail) <= _MAX_TRAILING_JUNK and b"<" not in tail:
        return data[: end + 1] + b"\n"
    return data


def parse(data, filename=""):
    """Read a pain.002 (bytes) into a :class:`Report`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    file_name = filename or None
    data = _strip_trailing_junk(data)
    sniff = xmlsafe.sniff(data, file_name)
    if sniff.is_xml and sniff.error:
        for _event in xmlsafe.iterparse(data, file_name, events=("start",)):
            pass
        raise MalformedDocument(sniff.error, file_name=file_name)
    version = pain002_kind(sniff.namespace) if sniff.is_xml else None
    if not sniff.is_xml or sniff.root != "Document" or version is None:
        raise UnrecognisedDocument(
            f"not a pain.002 payment status report: {sniff.describe()}",
            file_name=file_name,
            expected="<Document> in namespace urn:iso:std:iso:20022:tech:xsd:pain.002.001.03 to .12",
        )
    if sniff.first_child != "CstmrPmtStsRpt":
        raise UnrecognisedDocument(
            f"pain.002 document whose message element is <{sniff.first_child}>",
            file_name=file_name,
            element=sniff.first_child,
            expected="<CstmrPmtStsRpt>",
        )
    return _Reader(sniff.namespace, version, file_name).read(data)


class _Reader(IsoElementReader):
    def __init__(self, ns, version, file_name):
        self.prefix = f"{{{ns}}}"
        self.version = version
        self.file_name = file_name

    def each(self, el, name):
        return el.iterchildren(self.prefix + name) if el is not None else ()

    def text(self, el, path=None):
        for part in path.split("/") if path else ():
            if el is None:
                return None
            el = el.find(self.prefix + part)
        if el is None or el.text is None:
            return None
        return el.text.strip() or None

    def status(self, el, name, path):
        found = el.find(self.prefix + name)
        value = self.text(found)
        if value is None:
            return None
        value = value.upper()
        if not _STATUS_RE.fullmatch(value):
            raise self.error(
                f"status {value[:40]!r} is not a status code",
                found,
                f"{path}/{name}",
                expected="a four-letter ISO status such as ACCP or RJCT",
            )
        return value

    def reasons(self, el):
        found = []
        for info in self.each(el, "StsRsnInf"):
            code = self.text(info, "Rsn/Cd") or self.text(info, "Rsn/Prtry")
            additional = tuple(t for t in ((c.text or "").strip() for c in self.each(info, "AddtlInf")) if t)
            if code is None and not additional:
                continue  # only an originator, or empty: says nothing
            found.append(reason(code.upper() if code else None, additional))
        return found

    def read(self, data):
        tags = tuple(self.prefix + name for name in ("GrpHdr", "OrgnlGrpInfAndSts", "OrgnlPmtInfAndSts", "TxInfAndSts"))
        header = None
        group = None
        infos = []
        pending = []
        info_number = 0
        for _event, el in xmlsafe.iterparse(data, self.file_name, events=("end",), tag=tags):
            name = el.tag[len(self.prefix) :]
            parent = el.getparent()
            if name == "GrpHdr":
                header = self.header(el)
            elif name == "OrgnlGrpInfAndSts":
                group = self.group(el)
            elif name == "TxInfAndSts":
                if parent is None or xmlsafe.local(parent.tag) not in ("OrgnlPmtInfAndSts", "OrgnlGrpInfAndSts"):
                    continue
                pending.append(self.transaction(el, info_number + 1, len(pending) + 1))
                parent.remove(el)
            elif name == "OrgnlPmtInfAndSts":
                info_number += 1
                infos.append(self.info(el, info_number, pending))
                pending = []
                el.clear()
                parent.remove(el)
        if header is None:
            raise MalformedDocument(
                "the report has no group header (GrpHdr)",
                file_name=self.file_name,
                element="CstmrPmtStsRpt/GrpHdr",
                expected="GrpHdr with MsgId",
            )
        if group is None:
            raise MalformedDocument(
                "the report has no original group information (OrgnlGrpInfAndSts)",
                file_name=self.file_name,
                element="CstmrPmtStsRpt/OrgnlGrpInfAndSts",
                expected="OrgnlGrpInfAndSts with OrgnlMsgId and OrgnlMsgNmId",
            )
        message_id, created = header
        original_id, original_type, group_status, group_reasons = group
        if pending:
            # transactions reported at group level (pain.002.001.02 style)
            infos.append(InfoStatus(payment_info_id="", status=group_status, reasons=[], transactions=pending))
        for info in infos:
            if info.status is None:
                info.status = group_status
            for tx in info.transactions:
                if tx.status is None:
                    tx.status = info.status
        return Report(
            message_id=message_id,
            original_message_id=original_id,
            original_message_type=original_type,
            group_status=group_status,
            group_reasons=group_reasons,
            infos=infos,
            created=created,
            version=self.version,
        )

    def header(self, el):
        message_id = self.text(el, "MsgId")
        if not message_id:
            raise self.error("message id is missing", el, "GrpHdr/MsgId", expected="MsgId")
        created = None
        value = self.text(el, "CreDtTm")
        if value:
            try:
                created = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise self.error(
                    f"invalid date and time {value[:40]!r}",
                    el.find(self.prefix + "CreDtTm"),
                    "GrpHdr/CreDtTm",
                    expected="YYYY-MM-DDThh:mm:ss",
                ) from None
        return message_id, created

    def group(self, el):
        path = "OrgnlGrpInfAndSts"
        original_id = self.text(el, "OrgnlMsgId")
        if not original_id:
            raise self.error(
                "original message id is missing",
                el,
                f"{path}/OrgnlMsgId",
                expected="the MsgId of the pain.001 this report answers",
            )
        return (original_id, self.text(el, "OrgnlMsgNmId"), self.status(el, "GrpSts", path), self.reasons(el))

    def info(self, el, number, transactions):
        path = f"OrgnlPmtInfAndSts[{number}]"
        info_id = self.text(el, "OrgnlPmtInfId")
        if not info_id:
            raise self.error(
                "original payment information id is missing",
                el,
                f"{path}/OrgnlPmtInfId",
                expected="the PmtInfId of the pain.001",
            )
        return InfoStatus(
            payment_info_id=info_id,
            status=self.status(el, "PmtInfSts", path),
            reasons=self.reasons(el),
            transactions=transactions,
        )

    def transaction(self, el, info_number, number):
        path = f"OrgnlPmtInfAndSts[{info_number}]/TxInfAndSts[{number}]"
        kids = self.kids(el)
        end_to_end = self.text(kids.get("OrgnlEndToEndId"))
        amount = currency = None
        reference = kids.get("OrgnlTxRef")
        amount_el = None
        if reference is not None:
            amounts = self.kids(reference).get("Amt")
            amount_el = self.kids(amounts).get("InstdAmt")
            if amount_el is None:
                amount_el = self.kids(self.kids(amounts).get("EqvtAmt")).get("Amt")
        if amount_el is not None:
            value = (amount_el.text or "").strip()
            if not _AMOUNT_RE.fullmatch(value):
                raise self.error(
                    f"amount {value[:40]!r} is not a number",
                    amount_el,
                    f"{path}/OrgnlTxRef/Amt/InstdAmt",
                    expected="a decimal number such as 1234.56",
                )
            amount = limits.check_amount(
                Decimal(value),
                file_name=self.file_name,
                element=f"{path}/OrgnlTxRef/Amt/InstdAmt",
                line=amount_el.sourceline,
                text=value,
            )
            currency = (amount_el.get("Ccy") or "").strip().upper() or None
        return TxStatus(
            end_to_end_id=end_to_end,
            status=self.status(el, "TxSts", path),
            reasons=self.reasons(el),
            original_instruction_id=self.text(kids.get("OrgnlInstrId")),
            amount=amount,
            currency=currency,
        )
