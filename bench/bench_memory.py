"""Memory and throughput of every reader of the suite on large files.

The bound the readers keep: memory a small multiple of one entry for the
formats read as a stream (camt, TITO and KTL entries, Finvoice invoices),
at most about twice the file for what is read whole, time linear in the
size.

For each reader a large valid file is generated (``--size`` MB, 30 by
default), then read in a fresh process, which prints the file's size, the
growth of its peak resident memory while reading (``VmHWM`` after the read
against ``VmRSS`` with the file's bytes already read; ``ru_maxrss`` would
carry over the parent's across exec) as a multiple of the file's size, and
the throughput.

    python bench/bench_memory.py [--size 30] [--only camt-stream,finvoice-stream] [--keep DIR]

Readers measured:

* ``camt-stream`` / ``camt``: a camt.053 statement read with
  ``camt.iter_entries`` / ``camt.parse``;
* ``tito-stream`` / ``tito``, ``ktl-stream`` / ``ktl``: the same for TITO and
  KTL (``tests/bank/large_files.py``);
* ``finvoice-stream``: a bank's e-invoice file (SOAP frame and Finvoice,
  repeated) read with ``finvoice.iter_invoices``;
* ``finvoice-one``: one Finvoice with tens of thousands of rows read with
  ``finvoice.parse``; ``finvoice-one-validate`` the same with the schema
  check, which needs the invoice whole;
* ``finvoice-detect`` / ``ubl-detect``: format detection of those files;
* ``ubl-schema``: a Peppol BIS 3 invoice with tens of thousands of lines,
  checked against the UBL 2.1 schema with ``xsd.validate`` (the suite's
  part of reading UBL; its content is read by Odoo's UBL import).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import odoo.addons  # noqa: E402

_ODOO_ROOT = Path(next(iter(odoo.addons.__path__))).resolve().parent.parent
for _folder in (REPO, _ODOO_ROOT / "addons"):
    if str(_folder) not in odoo.addons.__path__:
        odoo.addons.__path__.append(str(_folder))

READERS = {
    "camt-stream": "camt",
    "camt": "camt",
    "tito-stream": "tito",
    "tito": "tito",
    "ktl-stream": "ktl",
    "ktl": "ktl",
    "finvoice-stream": "finvoice-file",
    "finvoice-detect": "finvoice-file",
    "finvoice-one": "finvoice-one",
    "finvoice-one-validate": "finvoice-one",
    "ubl-detect": "ubl",
    "ubl-schema": "ubl",
}


def _generate(kind, folder, size):
    """The path of a generated file of about ``size`` bytes for ``kind``."""
    path = Path(folder) / f"large-{kind}"
    if path.exists():
        return path
    if kind == "camt":
        from bench.bench_camt_parse import generate_camt053

        generate_camt053(path, max(size // 1150, 1))
    elif kind in ("tito", "ktl"):
        from tests.bank import large_files

        path.write_bytes((large_files.tito_file if kind == "tito" else large_files.ktl_file)(size))
    elif kind == "finvoice-file":
        from tests.einvoice.large_files import finvoice_file

        path.write_bytes(finvoice_file(size)[0])
    elif kind == "finvoice-one":
        from odoo.addons.heeros_link_einvoice.formats import finvoice
        from tests.einvoice.large_files import finvoice_invoice

        path.write_bytes(finvoice.build(finvoice_invoice("2026-1", max(size // 750, 1))))
    else:
        from tests.einvoice.large_files import ubl_file

        path.write_bytes(ubl_file(size))
    return path


def _memory(key):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(key))


def _read(reader, data):
    """Read ``data`` with ``reader``; return how many entries came out."""
    from odoo.addons.heeros_link_bank.formats import camt, ktl, tito
    from odoo.addons.heeros_link_base.formats import xmlsafe
    from odoo.addons.heeros_link_einvoice.formats import detect, finvoice, xsd

    name = f"large-{reader}"
    if reader == "import":
        xsd.load("finvoice")
        xsd.load("ubl-invoice")
        return 0
    if reader == "camt-stream":
        return sum(1 for _pair in camt.iter_entries(data, name))
    if reader == "camt":
        return sum(len(s.entries) for s in camt.parse(data, name).statements)
    if reader in ("tito-stream", "ktl-stream"):
        module = tito if reader.startswith("tito") else ktl
        return sum(1 for _pair in module.iter_entries(data, name))
    if reader in ("tito", "ktl"):
        module = tito if reader == "tito" else ktl
        return sum(len(s.entries) for s in module.parse(data, name).statements)
    if reader == "finvoice-stream":
        return sum(1 for _invoice in finvoice.iter_invoices(data, name))
    if reader in ("finvoice-one", "finvoice-one-validate"):
        return len(finvoice.parse(data, name, validate=reader.endswith("validate")).rows)
    if reader == "finvoice-detect":
        return int(detect.is_finvoice(xmlsafe.sniff(data, name)))
    if reader == "ubl-detect":
        return int(detect.is_ubl_invoice(xmlsafe.sniff(data, name)))
    if reader == "ubl-schema":
        violation = xsd.validate(data, "ubl-invoice", name)
        if violation is not None:
            raise violation
        return data.count(b"<cac:InvoiceLine>")
    raise ValueError(reader)


def _child(reader, path):
    """In a fresh process: read the file, print one JSON line."""
    _read("import", b"")  # the modules are loaded before measuring
    data = Path(path).read_bytes()
    resident = _memory("VmRSS:")
    start = time.perf_counter()
    count = _read(reader, data)
    seconds = time.perf_counter() - start
    growth = _memory("VmHWM:") - resident
    print(json.dumps({"size": len(data), "growth": growth, "seconds": seconds, "count": count}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=float, default=30, help="size of each file in MB")
    parser.add_argument("--only", default="", help="comma-separated readers (default: all)")
    parser.add_argument("--keep", help="folder to write the files to and keep them in")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    readers = [r for r in args.only.split(",") if r] or list(READERS)
    size = int(args.size * 1e6)
    folder = args.keep or tempfile.mkdtemp(prefix="heeros-link-memory-")
    Path(folder).mkdir(parents=True, exist_ok=True)
    print(f"{'reader':22} {'file MB':>8} {'entries':>8} {'memory MB':>10} {'x file':>7} {'MB/s':>7}")
    failed = False
    try:
        for reader in readers:
            path = _generate(READERS[reader], folder, size)
            out = subprocess.run(
                [sys.executable, __file__, "--child", reader, str(path)],
                capture_output=True,
                text=True,
                check=False,
                cwd=REPO,
            )
            if out.returncode:
                print(f"{reader:22} failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
                failed = True
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{reader:22} {row['size'] / 1e6:8.1f} {row['count']:8d} "
                f"{row['growth'] / 1e6:10.1f} {row['growth'] / row['size']:7.2f} "
                f"{row['size'] / 1e6 / max(row['seconds'], 1e-9):7.1f}"
            )
    finally:
        if not args.keep:
            for file in Path(folder).iterdir():
                file.unlink()
            Path(folder).rmdir()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
