"""Electronic archive throughput: archive N documents, then verify them all.

Archives N small documents of a company created for the run (each its own
file in the filestore, chained), takes a checkpoint, then runs the full
verification (every file re-read and hashed, every chain link and the
checkpoint checked). Prints entries per second for both steps and the peak
memory of the process. Everything happens in one transaction that is rolled
back at the end; the files written to the filestore stay until Odoo's
filestore garbage collection removes them.

    python bench/bench_archive.py --config CONF --database DB [--count 100000] [--size 2048]

Aim: verification of 100 000 entries in 30 s or less (Odoo start-up excluded).
"""

# the numbers on stdout are the result
# pylint: disable=print-used
import argparse
import resource
import sys
import time
import uuid


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=2048, help="bytes per document")
    parser.add_argument("--batch", type=int, default=1000, help="documents per archiving call")
    opts = parser.parse_args()

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", opts.config, "-d", opts.database, "--log-level=warn"])
    registry = Registry(opts.database)
    run = uuid.uuid4().hex[:8]
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        company = env["res.company"].create({"name": f"Archive bench {run}"})
        Entry = env["heeros.link.archive.entry"]
        started = time.perf_counter()
        for first in range(0, opts.count, opts.batch):
            documents = []
            for number in range(first, min(first + opts.batch, opts.count)):
                head = f"BENCH {run} {number:08d} ".encode()
                documents.append(
                    {
                        "company": company,
                        "data": (head + b"x" * opts.size)[: max(opts.size, len(head))],
                        "file_name": f"bench-{number:08d}.xml",
                        "mimetype": "application/xml",
                        "kind": "document",
                        "document_type": "bench",
                    }
                )
            Entry._heeros_link_archive(documents)
            env.flush_all()
            env.invalidate_all()
        archived = time.perf_counter() - started
        env["heeros.link.archive.checkpoint"]._heeros_link_take(company)

        started = time.perf_counter()
        result = env["heeros.link.archive.verification"]._heeros_link_check(company.ids)
        verified = time.perf_counter() - started
        cr.rollback()

    entries = result["companies"][0]["entries"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"archived {opts.count} documents of {opts.size} bytes in {archived:.1f} s: "
        f"{opts.count / archived:.0f} entries/s"
    )
    print(
        f"verified {entries} entries in {verified:.2f} s: {entries / verified:.0f} entries/s, "
        f"{len(result['faults'])} fault(s)"
    )
    print(f"peak memory {peak_mb:.0f} MB")
    return 1 if result["faults"] or entries != opts.count else 0


if __name__ == "__main__":
    sys.exit(main())
