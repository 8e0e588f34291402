"""Outbound e-invoice throughput.

Creates a Finnish company on the Finnish chart of accounts, customers with
e-invoice addresses and N posted invoices of several lines (four VAT rates,
discounts), then measures, each from a cold ORM cache:

(a) Finvoice 3.0: mapping of the invoices, XML build and XSD validation
    (the chain used when sending);
(b) Peppol BIS Billing 3.0 through the same chain: Odoo's UBL builder with
    the Finnish specifics, UBL 2.1 XSD and the CEN + Peppol business rules;
(c) Odoo's own BIS 3 export of the same invoices, without any validation.

It prints invoices per second for each and where the time goes. Everything
happens in one transaction that is rolled back at the end: the database is
left as it was.

    python bench/bench_einvoice.py --config CONF --database DB [--count 1000]
        [--peppol-count N] [--profile]
"""

import argparse
import cProfile
import io
import pstats
import resource
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def setup(env, count):
    """The company, customers and ``count`` posted invoices."""
    from odoo import Command

    fi = env.ref("base.fi")
    company = env["res.company"].create(
        {
            "name": "Bench Myyjä Oy",
            "country_id": fi.id,
            "currency_id": env.ref("base.EUR").id,
            "street": "Esimerkkikatu 1",
            "zip": "00100",
            "city": "Helsinki",
            "vat": "FI23456780",
            "company_registry": "2345678-0",
        }
    )
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    env["account.chart.template"].try_loading("fi", company, install_demo=False)
    company = env["res.company"].browse(company.id)
    bank = env["res.bank"].create({"name": "OP", "bic": "OKOYFIHH"})
    account = env["res.partner.bank"].create(
        {"acc_number": "FI4950009420028730", "partner_id": company.partner_id.id, "bank_id": bank.id}
    )
    maventa = env.ref("heeros_link_einvoice.operator_maventa")
    nordea = env.ref("heeros_link_einvoice.bank_nordea")
    env["heeros.link.einvoice.address"].create(
        {"partner_id": company.partner_id.id, "address": "003723456780", "operator_id": maventa.id}
    )
    # valid business IDs: seven digits and their check digit
    from stdnum.fi import ytunnus

    partners = env["res.partner"]
    base = 1120380
    while len(partners) < 20:
        base += 1
        digits = f"{base:07d}"
        business_id = next((f"{digits}-{d}" for d in "0123456789" if ytunnus.is_valid(f"{digits}-{d}")), None)
        if not business_id:
            continue
        partner = env["res.partner"].create(
            {
                "name": f"Asiakas {len(partners) + 1} Oy",
                "is_company": True,
                "country_id": fi.id,
                "street": f"Testitie {len(partners) + 1}",
                "zip": "02100",
                "city": "Espoo",
                "vat": "FI" + business_id.replace("-", ""),
                "company_registry": business_id,
                "email": f"ostot{len(partners)}@asiakas.example",
            }
        )
        env["heeros.link.einvoice.address"].create(
            {"partner_id": partner.id, "address": "0037" + business_id.replace("-", ""), "operator_id": nordea.id}
        )
        partners |= partner

    def tax(xmlid):
        return env.ref(f"account.{company.id}_{xmlid}")

    taxes = [
        tax("tax_dom_sales_goods_25_5"),
        tax("tax_dom_sales_goods_14"),
        tax("tax_dom_sales_goods_10"),
        tax("tax_dom_sales_goods_25_5"),
    ]
    tax("tax_dom_sales_goods_0").write({"heeros_link_vat_category": "E", "heeros_link_vatex": "VATEX-EU-132-1C"})
    taxes.append(tax("tax_dom_sales_goods_0"))
    products = env["product.product"].create(
        [{"name": f"Tuote {i}", "default_code": f"P-{i}", "lst_price": 10.0 + i} for i in range(10)]
    )
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
    vals = []
    for i in range(count):
        vals.append(
            {
                "move_type": "out_invoice",
                "partner_id": partners[i % len(partners)].id,
                "invoice_date": date(2026, 3, 2),
                "invoice_date_due": date(2026, 3, 16),
                "journal_id": journal.id,
                "partner_bank_id": account.id,
                "ref": f"PO-{i}",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": products[(i + j) % len(products)].id,
                            "quantity": 1 + (i + j) % 7,
                            "price_unit": 12.5 + 3 * j,
                            "discount": 10.0 if j == 0 else 0.0,
                            "tax_ids": [Command.set(taxes[j].ids)],
                        }
                    )
                    for j in range(5)
                ],
            }
        )
    moves = env["account.move"].create(vals)
    moves.action_post()
    env.flush_all()
    return env, company, moves


def timed(label, func, count, results):
    """Run ``func``; record wall-clock and CPU seconds (the machine may be
    shared: CPU time compares steps fairly, wall time is what a user waits)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    value = func()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    results.append((label, seconds, count, cpu))
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--peppol-count", type=int, default=None, help="invoices for (b) and (c) (default: --count)")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of (a) and (b)")
    opts = parser.parse_args()

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", opts.config, "-d", opts.database, "--log-level=warn"])
    from odoo.addons.heeros_link_einvoice.formats import finvoice as fv
    from odoo.addons.heeros_link_einvoice.formats import schematron, xsd

    registry = Registry(opts.database)
    results = []
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        start = time.perf_counter()
        env, _company, moves = setup(env, opts.count)
        print(f"set-up: {len(moves)} invoices of 5 lines in {time.perf_counter() - start:.1f} s")
        peppol_moves = moves[: opts.peppol_count or opts.count]
        xsd.load("finvoice")
        xsd.load("ubl-invoice")
        schematron.preload()
        timestamp = datetime.now(UTC).replace(microsecond=0)

        # (a) the sending chain, cold cache
        env.invalidate_all()
        moves = moves.browse(moves.ids)
        documents = timed(
            "(a) Finvoice: map + build + XSD",
            lambda: moves._heeros_link_finvoice_documents(timestamp),
            len(moves),
            results,
        )
        failures = [d["errors"] for d in documents.values() if "errors" in d]
        if failures:
            print("Finvoice failures:", failures[:3])
            return 1

        # (a) split: mapping, XML writing, validation
        env.invalidate_all()
        moves = moves.browse(moves.ids)
        finvoice = env["heeros.link.finvoice.builder"]
        state = finvoice._finvoice_batch(timestamp)
        invoices = timed(
            "    mapping (ORM -> dataclasses)",
            lambda: [finvoice._finvoice_invoice(m, state) for m in moves],
            len(moves),
            results,
        )
        xmls = timed(
            "    XML build (checks + writer)",
            lambda: [fv._serialize(fv._Writer(inv).document(), fv.STYLESHEET) for inv in invoices if not fv.check(inv)],
            len(moves),
            results,
        )
        timed("    XSD validation", lambda: [xsd.assert_valid(x, "finvoice") for x in xmls], len(moves), results)

        # (b) Peppol BIS 3 through our chain
        builder = env["account.edi.xml.ubl_bis3"]
        # one-off costs kept out of the rates: Odoo compiles its UBL templates
        # and Saxon its rules' template patterns on the first document
        peppol_moves[0]._heeros_link_check_ubl(builder._export_invoice(peppol_moves[0])[0])
        env.invalidate_all()
        peppol_moves = peppol_moves.browse(peppol_moves.ids)
        ubl = timed(
            "(b) Peppol: export + XSD + rules",
            lambda: [m._heeros_link_check_ubl(builder._export_invoice(m)[0]) for m in peppol_moves],
            len(peppol_moves),
            results,
        )
        if any(ubl):
            print("Peppol findings:", [u for u in ubl if u][:2])
            return 1
        env.invalidate_all()
        peppol_moves = peppol_moves.browse(peppol_moves.ids)
        exported = timed(
            "    export (Odoo builder + ours)",
            lambda: [builder._export_invoice(m)[0] for m in peppol_moves],
            len(peppol_moves),
            results,
        )
        timed("    UBL XSD", lambda: [xsd.validate(x, "ubl-invoice") for x in exported], len(peppol_moves), results)
        timed(
            "    CEN + Peppol schematron",
            lambda: [schematron.validate_ubl(x) for x in exported],
            len(peppol_moves),
            results,
        )

        # (c) Odoo's own export, no validation
        env.invalidate_all()
        peppol_moves = peppol_moves.browse(peppol_moves.ids)
        timed(
            "(c) Odoo BIS 3 export, unvalidated",
            lambda: [builder._export_invoice(m) for m in peppol_moves],
            len(peppol_moves),
            results,
        )

        profile_text = ""
        if opts.profile:
            env.invalidate_all()
            moves = moves.browse(moves.ids)
            profiler = cProfile.Profile()
            profiler.enable()
            moves._heeros_link_finvoice_documents(timestamp)
            profiler.disable()
            stream = io.StringIO()
            pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
            env.invalidate_all()
            peppol_moves = peppol_moves.browse(peppol_moves.ids)
            profiler = cProfile.Profile()
            profiler.enable()
            [m._heeros_link_check_ubl(builder._export_invoice(m)[0]) for m in peppol_moves]
            profiler.disable()
            stream.write("\n(b) Peppol: export + XSD + rules, by own time\n")
            pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(25)
            profile_text = stream.getvalue()
        cr.rollback()

    print(f"{'step':<40}{'invoices':>9}{'seconds':>10}{'invoices/s':>12}{'CPU s':>8}{'per CPU s':>11}")
    for label, seconds, count, cpu in results:
        print(f"{label:<40}{count:>9}{seconds:>10.2f}{count / seconds:>12.1f}{cpu:>8.2f}{count / cpu:>11.1f}")
    rate = {label: count / cpu for label, _seconds, count, cpu in results}
    a = rate["(a) Finvoice: map + build + XSD"]
    b = rate["(b) Peppol: export + XSD + rules"]
    c = rate["(c) Odoo BIS 3 export, unvalidated"]
    print(f"per CPU second, Finvoice built and validated vs Odoo's unvalidated BIS 3 export: {a / c:.2f}x")
    print(f"per CPU second, Peppol built and validated vs Odoo's unvalidated BIS 3 export: {b / c:.2f}x")
    print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if profile_text:
        print(profile_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
