"""Reading scanned and printed invoice PDFs: PDFs per second and peak memory.

Writes PDFs of four kinds in memory (text with the virtual bar code, text
only, a scanned page image with a Code 128 symbol, an image without anything
readable) and reads each kind ``--count`` times with
:func:`heeros_link_einvoice.formats.scan.read_pdf`. Text-only and empty PDFs
also go through the pdftoppm rendering fallback when poppler is installed,
which is where their time goes.

    python bench/bench_scan.py [--count 50] [--no-render]
"""

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import odoo.addons  # noqa: E402

for folder in (REPO, Path(next(iter(odoo.addons.__path__))).resolve().parent.parent / "addons"):
    if folder.is_dir() and str(folder) not in odoo.addons.__path__:
        odoo.addons.__path__.append(str(folder))

from odoo.addons.heeros_link_einvoice.formats import scan  # noqa: E402
from tests.einvoice import scan_pdfs  # noqa: E402


def kinds():
    return {
        "text + virtual bar code": scan_pdfs.invoice_pdf(scan_pdfs.invoice_lines(scan_pdfs.GUIDE_CODE)),
        "text only": scan_pdfs.invoice_pdf(scan_pdfs.invoice_lines()),
        "scanned image + Code 128": scan_pdfs.image_only_pdf(scan_pdfs.GUIDE_CODE),
        "image, nothing readable": scan_pdfs.image_only_pdf(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--no-render", action="store_true", help="skip the pdftoppm fallback")
    args = parser.parse_args(argv)
    print(f"{'kind':28} {'size':>9} {'PDFs/s':>8} {'peak MB':>8}  found")
    for name, data in kinds().items():
        tracemalloc.start()
        started = time.perf_counter()
        for _ in range(args.count):
            result = scan.read_pdf(data, render=not args.no_render)
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        found = result.barcode_source or ("text fields" if result.useful else "nothing")
        print(f"{name:28} {len(data):>9} {args.count / elapsed:>8.1f} {peak / 1e6:>8.1f}  {found}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max resident memory of the process: {rss:.0f} MB")


if __name__ == "__main__":
    main()
