"""Shared set-up of the bank import tests: two companies with the Finnish
chart of accounts and IBAN bank journals, a bureau connection serving both,
customers and invoices with Finnish references, and small builders for
camt.053/052/054 and KTL files."""

import shutil
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from odoo import Command
from odoo.addons.heeros_link_base.formats import reference
from odoo.tests.common import TransactionCase
from tests.common import link_folder

#: Valid Finnish IBANs; the first three are those of the public sample files.
IBAN_A = "FI4819503000000010"  # company A: samples camt.052, TITO, KTL
IBAN_A2 = "FI1557169020004185"  # company A, second journal: sample camt.053
IBAN_B = "FI9881234511224450"  # company B: sample camt.054
IBAN_UNKNOWN = "FI2112345600000785"
IBAN_CUSTOMER = "FI5810171000000122"


class BankCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        Company = cls.env["res.company"]
        eur = cls.env.ref("base.EUR")
        fi = cls.env.ref("base.fi")
        cls.company_a = Company.create({"name": "Pankkitesti A Oy", "country_id": fi.id, "currency_id": eur.id})
        cls.company_b = Company.create({"name": "Pankkitesti B Oy", "country_id": fi.id, "currency_id": eur.id})
        cls.env.user.company_ids |= cls.company_a | cls.company_b
        for company in (cls.company_a, cls.company_b):
            cls.env["account.chart.template"].try_loading("fi", company, install_demo=False)
        Journal = cls.env["account.journal"]
        cls.journal_a = Journal.search([("company_id", "=", cls.company_a.id), ("type", "=", "bank")], limit=1)
        cls.journal_a.bank_acc_number = IBAN_A
        cls.journal_a2 = Journal.create(
            {
                "name": "Toinen pankki",
                "code": "BNK9",
                "type": "bank",
                "company_id": cls.company_a.id,
                "bank_acc_number": IBAN_A2,
            }
        )
        cls.journal_b = Journal.search([("company_id", "=", cls.company_b.id), ("type", "=", "bank")], limit=1)
        cls.journal_b.bank_acc_number = IBAN_B
        cls.tmp = link_folder(cls.env, "heeros-link-bank-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.connection = cls.env["heeros.link.connection"].create(
            {
                "name": "Bureau bank agreement",
                "protocol": "local",
                "local_root": cls.tmp,
                "direction": "in",
                "company_id": cls.company_a.id,
                "company_ids": [Command.set((cls.company_a | cls.company_b).ids)],
            }
        )
        cls.Message = cls.env["heeros.link.message"]
        cls.Line = cls.env["account.bank.statement.line"]
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Asiakas Oy",
                "company_registry": "1234567-1",
                "is_company": True,
                "bank_ids": [Command.create({"acc_number": IBAN_CUSTOMER})],
            }
        )

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def intake(self, *files, company=None, connection=None):
        company = company or self.company_a
        return self.Message.with_company(company)._link_intake(list(files), connection=connection, company=company)

    def lines(self, journal):
        return self.Line.search([("journal_id", "=", journal.id)], order="internal_index")

    def invoice(self, amount, ref_base, partner=None, company=None, rf=False):
        """A posted customer invoice whose payment reference is the Finnish
        (or RF) reference made of ``ref_base``."""
        company = company or self.company_a
        national = reference.fi_make(ref_base)
        ref = reference.rf_make(national) if rf else national
        move = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": (partner or self.customer).id,
                    "invoice_date": date(2024, 3, 1),
                    "payment_reference": reference.format(ref),
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Palvelu", "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()]}
                        )
                    ],
                }
            )
        )
        move.action_post()
        self.assertEqual(reference.compact(move.payment_reference), ref)
        return move


def fi_ref(base):
    return reference.fi_make(str(base))


# ----------------------------------------------------------------------
# file builders
# ----------------------------------------------------------------------
def _amount(value):
    value = Decimal(str(value))
    return f"{abs(value):.2f}", "CRDT" if value >= 0 else "DBIT"


def _balance(code, value, day):
    amount, cdi = _amount(value)
    return (
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{amount}</Amt>'
        f"<CdtDbtInd>{cdi}</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>"
    )


def tx(amount, ref=None, text=None, name="Maksaja", iban=None, archive=None, instructed=None, charges=None):
    """One payment of an entry (camt ``TxDtls``); ``instructed`` is
    ``(amount, currency, rate)`` of a payment made in another currency,
    ``charges`` the bank's charge in euros."""
    return {
        "amount": amount,
        "ref": ref,
        "text": text,
        "name": name,
        "iban": iban,
        "archive": archive,
        "instructed": instructed,
        "charges": charges,
    }


def entry(amount, archive, day="2024-03-04", code="710TILISIIRTO", txs=None, batch=None, status="BOOK", **single):
    """One camt entry. Without ``txs`` it is a single payment built from
    ``single`` (``ref``, ``text``, ``name``, ``iban``)."""
    if txs is None:
        txs = [tx(amount, **single)]
    return {
        "amount": amount,
        "archive": archive,
        "day": day,
        "code": code,
        "txs": txs,
        "batch": batch,
        "status": status,
    }


def _tx_xml(item, credit):
    amount, _cdi = _amount(item["amount"])
    party = "Dbtr" if credit else "Cdtr"
    parts = ["<TxDtls>"]
    if item.get("archive"):
        parts.append(f"<Refs><AcctSvcrRef>{item['archive']}</AcctSvcrRef></Refs>")
    parts.append("<AmtDtls>")
    if item.get("instructed"):
        value, currency, rate = item["instructed"]
        parts.append(
            f'<InstdAmt><Amt Ccy="{currency}">{value}</Amt><CcyXchg><SrcCcy>{currency}</SrcCcy>'
            f"<TrgtCcy>EUR</TrgtCcy><XchgRate>{rate}</XchgRate></CcyXchg></InstdAmt>"
        )
    parts.append(f'<TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>')
    if item.get("charges"):
        parts.append(
            f'<Chrgs><TtlChrgsAndTaxAmt Ccy="EUR">{item["charges"]}</TtlChrgsAndTaxAmt><Rcrd>'
            f'<Amt Ccy="EUR">{item["charges"]}</Amt><CdtDbtInd>DBIT</CdtDbtInd></Rcrd></Chrgs>'
        )
    parts.append(f"<RltdPties><{party}><Nm>{escape(item['name'] or '')}</Nm></{party}>")
    if item.get("iban"):
        parts.append(f"<{party}Acct><Id><IBAN>{item['iban']}</IBAN></Id></{party}Acct>")
    parts.append("</RltdPties><RmtInf>")
    if item.get("text"):
        parts.append(f"<Ustrd>{escape(item['text'])}</Ustrd>")
    if item.get("ref"):
        parts.append(
            f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
            f"<Ref>{item['ref']}</Ref></CdtrRefInf></Strd>"
        )
    parts.append("</RmtInf></TxDtls>")
    return "".join(parts)


def _entry_xml(item):
    amount, cdi = _amount(item["amount"])
    credit = cdi == "CRDT"
    domain = (
        "<Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn>"
        if credit
        else "<Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn>"
    )
    details = "".join(_tx_xml(t, credit) for t in item["txs"])
    batch = f"<Btch><NbOfTxs>{item['batch']}</NbOfTxs></Btch>" if item["batch"] else ""
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{cdi}</CdtDbtInd><Sts>{item["status"]}</Sts>'
        f"<BookgDt><Dt>{item['day']}</Dt></BookgDt><ValDt><Dt>{item['day']}</Dt></ValDt>"
        f"<AcctSvcrRef>{item['archive']}</AcctSvcrRef>"
        f"<BkTxCd>{domain}<Prtry><Cd>{item['code']}</Cd><Issr>FFFS</Issr></Prtry></BkTxCd>"
        f"<NtryDtls>{batch}{details}</NtryDtls></Ntry>"
    )


def camt(kind, statements, msg_id="MSG1"):
    """A camt.052/053/054 document (bytes). ``statements`` is a list of
    dicts: ``iban``, ``entries``, optional ``id``, ``day``, ``opening``,
    ``closing``, ``available``, ``balances`` (list of (code, amount, day))."""
    root, container = {
        "camt.053": ("BkToCstmrStmt", "Stmt"),
        "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
        "camt.052": ("BkToCstmrAcctRpt", "Rpt"),
    }[kind]
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{kind}.001.02"><{root}>'
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2024-03-04T22:00:00+02:00</CreDtTm></GrpHdr>"
    ]
    for number, st in enumerate(statements, 1):
        day = st.get("day", "2024-03-04")
        parts.append(
            f"<{container}><Id>{st.get('id', f'{msg_id}.{number}')}</Id>"
            f"<LglSeqNb>{st.get('seq', number)}</LglSeqNb>"
            f"<CreDtTm>{day}T22:00:00+02:00</CreDtTm>"
            f"<Acct><Id><IBAN>{st['iban']}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        )
        balances = list(st.get("balances", []))
        if "opening" in st:
            balances.append(("OPBD", st["opening"], st.get("opening_day", day)))
        if "closing" in st:
            balances.append(("CLBD", st["closing"], day))
        if "available" in st:
            balances.append(("CLAV", st["available"], day))
        parts.extend(_balance(code, value, when) for code, value, when in balances)
        parts.extend(_entry_xml(e) for e in st.get("entries", []))
        parts.append(f"</{container}>")
    parts.append(f"</{root}></Document>")
    return "".join(parts).encode("utf-8")


def statement(iban, entries, opening, closing=None, **kwargs):
    """A statement dict for :func:`camt` whose closing balance, unless
    given, is opening plus the booked entries."""
    if closing is None:
        closing = Decimal(str(opening)) + sum(Decimal(str(e["amount"])) for e in entries if e["status"] == "BOOK")
    return dict(kwargs, iban=iban, entries=entries, opening=opening, closing=closing)


def ktl(bban, payments, day="240304"):
    """A KTL file (bytes): ``payments`` are (archive, reference, name, amount)."""
    lines = [f"0{day}2200{'01':2}{'123456789':9}1".ljust(90)]
    total = Decimal(0)
    for archive, ref, name, amount in payments:
        cents = int(Decimal(str(amount)) * 100)
        total += Decimal(str(amount))
        lines.append((f"3{bban}{day}{day}{archive:16}{ref.rjust(20, '0')}{name[:12]:12}1A{cents:010d}0A0").ljust(90))
    lines.append(f"9{len(payments):06d}{int(total * 100):011d}{0:06d}{0:011d}".ljust(90))
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")
