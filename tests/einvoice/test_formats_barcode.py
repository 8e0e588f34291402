"""Finnish bank bar code: the virtual code and its Code 128 C symbol.

Expected values are the example invoices of Finance Finland's Bank Bar Code
Guide (Pankkiviivakoodi-opas) version 5.3, sections 9-10 (version 4 and 5
examples) and 12 (check digit 2), and the Code 128 character table of
ISO/IEC 15417.
"""

import base64
import datetime
from decimal import Decimal

import pytest
from lxml import etree

from odoo.addons.heeros_link_base.formats.errors import BuildError, LinkFormatError, RecordError
from odoo.addons.heeros_link_einvoice.formats import barcode

D = datetime.date

# The guide's example invoices: IBAN, amount, national reference, RF reference,
# due date, version 4 code, version 5 code.
GUIDE_EXAMPLES = [
    (
        "FI79 4405 2020 0360 82",
        "4883.15",
        "86851 62596 19897",
        "RF09 8685 1625 9619 897",
        D(2010, 6, 12),
        "479440520200360820048831500000000868516259619897100612",
        "579440520200360820048831509000000868516259619897100612",
    ),
    (
        "FI02 5000 4640 0013 02",
        "693.80",
        "69 87567 20834 35364",
        None,
        D(2011, 7, 24),
        "402500046400013020006938000000069875672083435364110724",
        None,
    ),
    (
        "FI15 6601 0001 5306 41",
        "7444.54",
        "7 75847 47906 47489",
        "RF84 7758 4747 9064 7489",
        D(2019, 12, 19),
        "415660100015306410074445400000007758474790647489191219",
        "515660100015306410074445484000007758474790647489191219",
    ),
    (
        "FI16 8000 1400 0502 67",
        "935.85",
        "78 77767 96566 28687",
        "RF60 7877 7679 6566 2868 7",
        None,  # no due date
        "416800014000502670009358500000078777679656628687000000",
        "516800014000502670009358560000078777679656628687000000",
    ),
    (
        "FI73 3131 3001 0000 58",
        None,
        "8 68624",
        "RF10 8686 24",
        D(2013, 8, 9),  # no amount
        "473313130010000580000000000000000000000000868624130809",
        "573313130010000580000000010000000000000000868624130809",
    ),
    (
        "FI83 3301 0001 1007 75",
        "150000.20",
        "92125 37425 25398 97737",
        "RF71 9212 5374 2525 3989 7737",
        D(2016, 5, 25),
        "483330100011007751500002000092125374252539897737160525",
        "583330100011007751500002071092125374252539897737160525",
    ),
    (
        "FI39 3636 3002 0924 92",
        "1.03",
        "5907 38390",
        "RF66 5907 3839 0",
        D(2023, 3, 11),
        "439363630020924920000010300000000000000590738390230311",
        "539363630020924920000010366000000000000590738390230311",
    ),
    (
        "FI92 3939 0001 0033 91",
        "0.02",
        "13 57914",
        "RF95 1357 914",
        D(2099, 12, 24),
        "492393900010033910000000200000000000000001357914991224",
        "592393900010033910000000295000000000000001357914991224",
    ),
]

V4_CASES = [(e[0], e[1], e[2], e[4], e[5]) for e in GUIDE_EXAMPLES]
V5_CASES = [(e[0], e[1], e[3], e[4], e[6]) for e in GUIDE_EXAMPLES if e[3]]
# Version 5 examples whose data differ from their version 4 counterparts.
V5_CASES += [
    (
        "FI58 1017 1000 0001 22",
        "482.99",
        "RF06 5595 8224 3294 671",
        D(2010, 1, 31),
        "558101710000001220004829906000000559582243294671100131",
    ),
    (
        "FI02 5000 4640 0013 02",
        "693.80",
        "RF02 6987 5672 0834",
        D(2011, 7, 24),
        "502500046400013020006938002000000000698756720834110724",
    ),
]
V4_CASES += [
    (
        "FI58 1017 1000 0001 22",
        "482.99",
        "55958 22432 94671",
        D(2012, 1, 31),
        "458101710000001220004829900000000559582243294671120131",
    ),
]


@pytest.mark.parametrize("iban, amount, ref, due, expected", V4_CASES)
def test_version4_guide_examples(iban, amount, ref, due, expected):
    assert barcode.virtual_barcode(iban, amount, ref, due) == expected


@pytest.mark.parametrize("iban, amount, ref, due, expected", V5_CASES)
def test_version5_guide_examples(iban, amount, ref, due, expected):
    assert barcode.virtual_barcode(iban, amount, ref, due) == expected


def test_brief_example_code():
    # The code quoted in the brief belongs to IBAN FI37 1590 3000 0007 76
    # (its digits 2-17), 12,25 EUR, reference 11112, due 21.12.2016.
    code = "437159030000007760000122500000000000000000011112161221"
    assert barcode.virtual_barcode("FI37 1590 3000 0007 76", Decimal("12.25"), "11112", D(2016, 12, 21)) == code
    parsed = barcode.parse_virtual_barcode(code)
    assert parsed.iban == "FI3715903000000776"
    assert parsed.reference == "11112"


@pytest.mark.parametrize("iban, amount, ref, due, expected", V4_CASES + V5_CASES)
def test_parse_is_inverse(iban, amount, ref, due, expected):
    parsed = barcode.parse_virtual_barcode(expected)
    assert parsed.version == int(expected[0])
    assert parsed.iban == iban.replace(" ", "")
    assert parsed.amount == (Decimal(amount) if amount else None)
    assert parsed.reference == ref.replace(" ", "")
    assert parsed.due_date == due
    assert parsed.code == expected


def test_amount_forms_and_limits():
    iban, ref = "FI79 4405 2020 0360 82", "86851 62596 19897"
    code = barcode.virtual_barcode(iban, 4883.15, ref, None)
    assert code[17:25] == "00488315"
    assert barcode.virtual_barcode(iban, Decimal("4883.149"), ref)[17:25] == "00488315"
    assert barcode.virtual_barcode(iban, 12, ref)[17:25] == "00001200"
    assert barcode.virtual_barcode(iban, "999999.99", ref)[17:25] == "99999999"
    # Over the maximum or missing: zeros, the payer types the amount.
    assert barcode.virtual_barcode(iban, "1000000.00", ref)[17:25] == "00000000"
    assert barcode.virtual_barcode(iban, None, ref)[17:25] == "00000000"
    assert barcode.virtual_barcode(iban, 0, ref)[17:25] == "00000000"
    assert code.endswith("000000")
    with pytest.raises(BuildError):
        barcode.virtual_barcode(iban, "-1.00", ref)
    with pytest.raises(BuildError):
        barcode.virtual_barcode(iban, "abc", ref)


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 00",  # valid, but not Finnish
        "SE45 5000 0000 0583 9825 7466",
        "FI79 4405 2020 0360 83",  # FI with a wrong check digit
        "FI79 4405 2020 0360",  # too short
        "",
        None,
    ],
)
def test_non_finnish_or_invalid_iban_refused(iban):
    with pytest.raises(BuildError) as info:
        barcode.virtual_barcode(iban, "10.00", "86851 62596 19897", None)
    assert "IBAN" in str(info.value) or "Finnish" in str(info.value)


def test_non_finnish_iban_message_is_clear():
    with pytest.raises(BuildError, match="not a FI IBAN"):
        barcode.virtual_barcode("DE89370400440532013000", "10.00", "86851 62596 19897")


@pytest.mark.parametrize(
    "ref",
    [
        "86851 62596 19898",  # wrong 7-3-1 check digit
        "RF10 8686 25",  # wrong RF check digits
        "RF18 ABCD 1234",  # RF form with a wrong check
        "123",  # too short for a national reference
        "",
        None,
    ],
)
def test_invalid_reference_refused(ref):
    with pytest.raises(BuildError):
        barcode.virtual_barcode("FI79 4405 2020 0360 82", "1.00", ref, None)


def test_rf_reference_with_letters_refused():
    # RF45G72UUR is a valid ISO 11649 reference, but its letters cannot be
    # carried by the numeric bar code.
    with pytest.raises(BuildError, match="letters"):
        barcode.virtual_barcode("FI79 4405 2020 0360 82", "1.00", "RF45 G72U UR", None)


@pytest.mark.parametrize(
    "code",
    [
        "47944052020036082004883150000000086851625961989710061",  # 53 digits
        "379440520200360820048831500000000868516259619897100612",  # version 3
        "479440520200360830048831500000000868516259619897100612",  # IBAN checksum broken
        "479440520200360820048831500000000868516259619898100612",  # reference check digit
        "479440520200360820048831500000000868516259619897101312",  # month 13
        "47944052020036082004883150000000086851625961989710061X",
    ],
)
def test_parse_refuses_bad_codes(code):
    with pytest.raises(RecordError):
        barcode.parse_virtual_barcode(code)


# ---------------------------------------------------------------------------
# Code 128 C
# ---------------------------------------------------------------------------


def _hand_checksum(digits):
    """The guide's 'check digit 2' by hand: start C value 105 plus each pair
    times its position, modulo 103."""
    total = 105
    position = 1
    for i in range(0, len(digits), 2):
        total += position * int(digits[i : i + 2])
        position += 1
    return total % 103


@pytest.mark.parametrize(
    "code, expected",
    [
        # The guide's printed forms "<code><check>" of version 4 examples 1-3.
        ("479440520200360820048831500000000868516259619897100612", 40),
        ("458101710000001220004829900000000559582243294671120131", 55),
        ("402500046400013020006938000000069875672083435364110724", 14),
    ],
)
def test_checksum_guide_values(code, expected):
    assert barcode.code128c_checksum(code) == expected
    assert _hand_checksum(code) == expected


def test_checksum_hand_computation_short():
    # 105 + 1*12 + 2*34 = 185; 185 mod 103 = 82
    assert barcode.code128c_values("1234") == [105, 12, 34, 82, 106]


def test_known_code128c_encoding_of_1234():
    # Code 128 table: start C 211232, value 12 = 112232, value 34 = 131123,
    # value 82 = 121241, stop 2331112.
    expected = "2112321122321311231212412331112"
    assert barcode.code128c_pattern("1234") == [int(c) for c in expected]


def test_table_landmarks():
    # A few table entries from ISO/IEC 15417 (value: widths).
    assert barcode.code128c_pattern("00")[6:12] == [2, 1, 2, 2, 2, 2]  # value 0
    assert barcode.code128c_pattern("99")[6:12] == [1, 1, 3, 1, 4, 1]  # value 99
    for value in range(103):
        widths = barcode._CODE128_WIDTHS[value]
        assert sum(int(w) for w in widths) == 11, value
        assert sum(int(w) for w in widths[::2]) % 2 == 0, value  # even bar modules
    assert len(set(barcode._CODE128_WIDTHS)) == 107


@pytest.mark.parametrize("code", [case[-1] for case in V4_CASES + V5_CASES])
def test_pattern_matches_reportlab(code):
    """Cross-check with an independent Code 128 implementation (ReportLab,
    an Odoo dependency): 'Bb' letters are bars/spaces of width A=1..D=4."""
    code128 = pytest.importorskip("reportlab.graphics.barcode.code128")
    symbol = code128.Code128("\xc7" + code)  # subset C start
    symbol.validate()
    symbol.encode()
    symbol.decompose()
    widths = [" ABCD".index(ch.upper()) for ch in symbol.decomposed]
    assert barcode.code128c_pattern(code) == widths
    assert symbol.encoded[-2] == barcode.code128c_checksum(code)


def test_pattern_of_54_digits_is_332_modules():
    code = GUIDE_EXAMPLES[0][5]
    pattern = barcode.code128c_pattern(code)
    # start + 27 pairs + check = 29 characters of 11 modules, stop 13
    assert sum(pattern) == 29 * 11 + 13 == 332
    assert len(pattern) == 29 * 6 + 7


@pytest.mark.parametrize("digits", ["123", "12a4", "", None])
def test_code128c_refuses_odd_or_non_digits(digits):
    with pytest.raises(BuildError):
        barcode.code128c_pattern(digits)


def test_svg_geometry_and_quiet_zones():
    code = GUIDE_EXAMPLES[0][5]
    svg = barcode.barcode_svg(code)
    root = etree.fromstring(svg.encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # 332 modules of 0.25 mm = 83 mm, plus 6.4 mm quiet zones on both sides
    assert root.get("width") == "95.8mm"
    assert root.get("height") == "13mm"
    path = root.find("{http://www.w3.org/2000/svg}path").get("d")
    bars = [seg for seg in path.split("z") if seg]
    assert len(bars) == 29 * 3 + 4
    first_x = float(bars[0][1:].split()[0])
    last = bars[-1]
    last_x = float(last[1:].split()[0])
    last_w = float(last.split("h")[1].split("v")[0])
    assert first_x == pytest.approx(6.4)
    assert 95.8 - (last_x + last_w) == pytest.approx(6.4)
    # bar widths reproduce the pattern
    widths = [float(seg.split("h")[1].split("v")[0]) / 0.25 for seg in bars]
    assert [round(w) for w in widths] == barcode.code128c_pattern(code)[::2]


def test_svg_quiet_zone_grows_with_module():
    svg = barcode.barcode_svg("1234", height_mm=15, module_mm=1)
    root = etree.fromstring(svg.encode())
    symbol = 3 * 11 + 13 + 11  # start, 2 pairs, check, stop
    assert root.get("width") == f"{symbol + 20}mm"  # 10 modules each side
    assert root.get("height") == "15mm"


def test_data_uri():
    uri = barcode.barcode_data_uri("1234")
    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode() == barcode.barcode_svg("1234")


def test_errors_are_link_errors():
    assert issubclass(BuildError, LinkFormatError)
    with pytest.raises(LinkFormatError):
        barcode.barcode_svg("1234", height_mm=0)
