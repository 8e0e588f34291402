"""Detectors for the bank statement formats.

Each takes the :class:`~heeros_link_base.formats.xmlsafe.Sniff` of a payload
(root element and namespace for XML, the first bytes otherwise) and answers
True or False; none of them parses the whole file.
"""

from . import pain002
from .camt import camt_kind
from .pain001 import NAMESPACE_RE as PAIN001_NAMESPACE_RE

_TITO_MIN_LENGTH = 100  # the T00 record is 322 characters; older ones were never short
_KTL_LENGTH = 90


def _is_camt(sniff, kind):
    if not sniff.is_xml or sniff.root != "Document":
        return False
    return camt_kind(sniff.namespace)[0] == kind


def is_camt052(sniff):
    """camt.052 account report (any .001.nn version)."""
    return _is_camt(sniff, "camt.052")


def is_camt053(sniff):
    """camt.053 account statement (any .001.nn version)."""
    return _is_camt(sniff, "camt.053")


def is_camt054(sniff):
    """camt.054 debit/credit notification (any .001.nn version)."""
    return _is_camt(sniff, "camt.054")


def _text_lines(sniff):
    if sniff.is_xml:
        return None
    head = sniff.head
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.lstrip(b"\r\n").decode("latin-1").splitlines()


def is_tito(sniff):
    """TITO: the first record is ``T00`` followed by a plausible three-digit
    record length (at least 100; 322 in the current standard) and, when the
    first line is read whole, a line that long or records that fit it."""
    lines = _text_lines(sniff)
    if not lines:
        return False
    first = lines[0]
    if not first.startswith("T00") or not first[3:6].isdecimal():
        return False
    length = int(first[3:6])
    if length < _TITO_MIN_LENGTH or not first[6:9].strip():
        return False
    if len(lines) > 1 and len(first) > length:
        # several records on one line: the next one must start with T and digits
        rest = first[length:]
        return not rest.strip() or (rest[0] == "T" and rest[1:6].isdecimal())
    return True


def _ktl_record(line):
    return len(line) <= _KTL_LENGTH and line[:1] in ("0", "3", "5", "9") and line[1:7].isdecimal()


def is_ktl(sniff):
    """KTL reference payments: the first record starts with ``0`` and a
    creation date and time (ten digits) and is 90 characters; or, when the
    blanks that end header and trailer were cut off, all complete lines seen
    are records of types 0, 3, 5 and 9, with at least one payment record
    (types 3 and 5 end with a code, so they keep their 90 characters)."""
    lines = _text_lines(sniff)
    if not lines:
        return False
    first = lines[0]
    if not first.startswith("0") or not first[1:11].isdecimal():
        return False
    if len(first) == _KTL_LENGTH or (
        len(first) > _KTL_LENGTH and len(lines) == 1 and first[_KTL_LENGTH : _KTL_LENGTH + 1] in ("3", "5", "9")
    ):
        return True
    complete = lines[:-1] if len(sniff.head) < sniff.size else lines
    payments = [line for line in complete if line[:1] in ("3", "5")]
    return (
        bool(payments)
        and all(_ktl_record(line) for line in complete)
        and all(len(line) == _KTL_LENGTH for line in payments)
    )


def is_pain001(sniff):
    """pain.001 credit transfer initiation (any .001.nn version), e.g. a
    salary file written by a payroll system."""
    return (
        sniff.is_xml
        and sniff.root == "Document"
        and bool(PAIN001_NAMESPACE_RE.search(sniff.namespace))
        and sniff.first_child in ("CstmrCdtTrfInitn", "")
    )


def is_pain002(sniff):
    """pain.002 payment status report (.001.03 to .001.12)."""
    return pain002.is_pain002(sniff)
