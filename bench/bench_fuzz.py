"""Seeded fuzzing of every parser, at scale, and memory on large inputs.

Runs the cases of :mod:`tests.fuzz` (10 000 per parser by default: camt,
TITO, KTL, Finvoice and the detection of every format) and prints, per
parser, cases per second, how many inputs were refused, the slowest case
against its allowed time and the largest ``tracemalloc`` peak. Then, unless
``--no-large``, it parses large generated files in a fresh process each and
prints the growth of resident memory against the file's size.

Exits with status 1 when any case raised an error that is not a
``LinkFormatError`` naming the file, went beyond its time or memory bound,
or when streaming a large camt file needed more than ``--stream-limit`` MB
(a large TITO or KTL file more than 2.5 times its size).

    python bench/bench_fuzz.py [--cases 10000] [--parsers camt,tito] [--seed S] [--no-large]
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

from tests import fuzz  # noqa: E402

LARGE = {
    # parser: (what is generated, size)
    "camt-stream": "camt.053 with 30 000 entries, read with iter_entries",
    "camt": "the same file read with parse",
    "tito-stream": "TITO with 200 000 transaction records, read with iter_entries",
    "tito": "the same file read with parse",
    "ktl-stream": "KTL with 300 000 payments, read with iter_entries",
    "ktl": "the same file read with parse",
}


#: resident growth allowed when streaming TITO or KTL, times the file's size
#: (its decoded text is held whole)
STREAM_RATIO = 2.5


def _generate(kind, folder):
    kind = kind.removesuffix("-stream")
    path = Path(folder) / f"large-{kind}"
    if path.exists():
        return path
    if kind.startswith("camt"):
        from bench.bench_camt_parse import generate_camt053

        path = Path(folder) / "large-camt.xml"
        if not path.exists():
            generate_camt053(path, 30_000)
        return path
    source = (REPO / "tests" / "data" / "bank" / f"{kind}_latin1.txt").read_bytes()
    lines = source.splitlines(keepends=True)
    if kind == "tito":
        body = [line for line in lines if line.startswith((b"T10", b"T11"))]
        data = b"".join(lines[:1] + body * (200_000 // len(body)))
    else:
        body = [line for line in lines if line.startswith(b"3")]
        data = b"".join(lines[:1] + body * (300_000 // len(body)) + lines[-1:])
    path.write_bytes(data)
    return path


def _memory(key):
    """``VmRSS`` (resident now) or ``VmHWM`` (the highest since this program
    started; ``ru_maxrss`` would carry over the parent's across exec)."""
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(key))


def _measure_child(kind, path):
    """Run in a fresh process: print JSON with the file size and RSS growth."""
    from odoo.addons.heeros_link_bank.formats import camt, ktl, tito

    data = Path(path).read_bytes()
    resident = _memory("VmRSS:")
    # from what is resident now (the file read) to the highest point of the parse
    start = time.perf_counter()
    if kind == "camt-stream":
        for _pair in camt.iter_entries(data, "large.xml"):
            pass
    elif kind == "camt":
        camt.parse(data, "large.xml")
    elif kind == "tito-stream":
        for _pair in tito.iter_entries(data, "large.tito"):
            pass
    elif kind == "tito":
        tito.parse(data, "large.tito")
    elif kind == "ktl-stream":
        for _pair in ktl.iter_entries(data, "large.ktl", check_totals=False):
            pass
    else:
        ktl.parse(data, "large.ktl", check_totals=False)
    seconds = time.perf_counter() - start
    growth = _memory("VmHWM:") - resident
    print(json.dumps({"size": len(data), "growth": growth, "seconds": seconds}))


def large(stream_limit_mb):
    ok = True
    print("\nlarge inputs (fresh process each; resident memory growth during the parse):")
    with tempfile.TemporaryDirectory() as folder:
        for kind, label in LARGE.items():
            path = _generate(kind, folder)
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, str(path)], capture_output=True, text=True, check=False
            )
            if out.returncode:
                print(f"  {kind}: failed: {out.stderr.strip().splitlines()[-1:]}")
                ok = False
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            ratio = row["growth"] / row["size"]
            print(
                f"  {kind:12} {label}: {row['size'] / 1e6:.1f} MB in {row['seconds']:.1f}s, "
                f"memory +{row['growth'] / 1e6:.1f} MB ({ratio:.1f}x the file)"
            )
            if kind == "camt-stream" and row["growth"] > stream_limit_mb * 1e6:
                print(f"    streaming needed more than {stream_limit_mb} MB")
                ok = False
            if kind in ("tito-stream", "ktl-stream") and ratio > STREAM_RATIO:
                print(f"    streaming needed more than {STREAM_RATIO} times the file")
                ok = False
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases per parser")
    parser.add_argument("--parsers", default=",".join(fuzz.PARSERS))
    parser.add_argument("--seed", default=fuzz.SEED)
    parser.add_argument("--time-factor", type=float, default=50.0)
    parser.add_argument("--no-large", action="store_true", help="skip the large inputs")
    parser.add_argument("--stream-limit", type=float, default=50.0, help="MB streaming a large camt file may add")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _measure_child(*args.child)
        return 0
    failed = False
    for name in args.parsers.split(","):
        result = fuzz.run(name, args.cases, seed=args.seed, time_factor=args.time_factor)
        rate = result.cases / result.seconds if result.seconds else 0.0
        ratio, slowest = result.slowest
        print(
            f"{name:10} {result.cases} cases, {result.refused} refused, {rate:.0f} cases/s, "
            f"peak {result.peak / 1e6:.1f} MB"
        )
        print(f"           slowest: {slowest} ({ratio:.0%} of its bound)")
        for failure in result.failures[:20]:
            print(f"           FAIL {failure}")
        if result.failures:
            print(f"           {len(result.failures)} failure(s)")
            failed = True
    if not args.no_large and not large(args.stream_limit):
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
