"""Message intake throughput of the Link core.

Stores N small files as inbound messages (``received``), then processes them
through a trivial handler registered by this script (``processed``), and
prints files per second for both steps and the peak memory of the process.
Everything happens in one transaction that is rolled back at the end: the
database is left as it was.

    python bench/bench_intake.py --config CONF --database DB [--count 2000]

``bash .ci/link env`` prints the Python and the config file to use.
"""

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from unittest.mock import patch

REPO = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--size", type=int, default=2048, help="bytes per file")
    opts = parser.parse_args()

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", opts.config, "-d", opts.database, "--log-level=warn"])
    from odoo.addons.heeros_link_base.registry import DocumentType

    registry = Registry(opts.database)
    files = [
        (f"bench-{i:06d}.txt", (f"BENCH {i} ".encode() + b"x" * opts.size)[: opts.size]) for i in range(opts.count)
    ]
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        Message = env["heeros.link.message"]
        MessageClass = type(Message)
        original = MessageClass._link_document_types

        def document_types(model):
            types = original(model)
            types["bench.text"] = DocumentType(
                code="bench.text",
                label="Benchmark text",
                detect=lambda sniff: sniff.head.startswith(b"BENCH "),
                handler=("heeros.link.message", "_bench_handle"),
            )
            return types

        tracemalloc.start()
        with (
            patch.object(MessageClass, "_link_document_types", document_types),
            patch.object(MessageClass, "_bench_handle", lambda model, message: None, create=True),
            patch.object(MessageClass, "_link_commit", lambda model: None),
        ):
            start = time.perf_counter()
            messages = Message._link_intake(files, process=False)
            env.flush_all()
            stored = time.perf_counter() - start
            start = time.perf_counter()
            messages._link_process()
            env.flush_all()
            processed = time.perf_counter() - start
        _, peak_py = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        states = set(messages.mapped("state"))
        cr.rollback()

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"files: {opts.count} of {opts.size} bytes; final states: {', '.join(sorted(states))}")
    print(f"{'step':<22}{'seconds':>10}{'files/s':>12}")
    print(f"{'intake (received)':<22}{stored:>10.2f}{opts.count / stored:>12.1f}")
    print(f"{'process (processed)':<22}{processed:>10.2f}{opts.count / processed:>12.1f}")
    print(f"peak Python allocations: {peak_py / 1e6:.1f} MB; peak RSS of the process: {rss:.0f} MB")
    return 0 if states == {"processed"} else 1


if __name__ == "__main__":
    sys.exit(main())
