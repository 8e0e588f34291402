"""Bank Web Services: DownloadFileList + DownloadFile of N files against the
test bank on 127.0.0.1.

Starts the test bank (HTTPS with its own throw-away authority, every request
validated against the ApplicationRequest schema and its two signatures
verified, every answer signed), enrols a certificate with the PIN, puts N
copies of a Finnish camt.053 sample (6 kB) at the bank (not timed), then times what the
Link's channel does in a fetch: one DownloadFileList, then one DownloadFile
per file, each answer verified (envelope and ApplicationResponse signatures,
the bank certificate chained to the bank root) before its content is used.

Prints the files per second, where the Link's time goes (signing the
ApplicationRequest and the SOAP message, verifying the bank's answers, and
transport: TLS, HTTP and the bank's own work, which the test bank does in the
same process), and the peak memory (Python allocations and the process's RSS
growth). No database is needed.

    python bench/bench_bank_ws.py [--files 1000] [--algorithm sha256]
"""

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _rss_mb():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def _addons_path():
    import odoo.addons

    if str(REPO) not in odoo.addons.__path__:
        odoo.addons.__path__.append(str(REPO))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--algorithm", choices=("sha1", "sha256"), default="sha256")
    args = parser.parse_args()
    _addons_path()
    from odoo.addons.heeros_link_base.channels import open_channel
    from odoo.addons.heeros_link_base.channels.bank_ws import BankWsConfig, CertificateService
    from odoo.addons.heeros_link_base.formats import bank_ws as ws
    from tests.bankws.testbank import CUSTOMER_ID, PIN, TestBank
    from tests.common import SHARED_DATA

    sample = (SHARED_DATA / "bank" / "samples" / "finnish_camt" / "corporatejs_camt053_1.xml").read_bytes()

    bank = TestBank(algorithm=args.algorithm).start()
    try:
        service = CertificateService(
            bank.cert_url, customer_id=CUSTOMER_ID, bank_roots=bank.root_pem, tls_ca=bank.root_pem
        )
        key_pem, csr = ws.make_key_and_csr("Benchmark Oy", CUSTOMER_ID)
        cert = service.enrol(csr, PIN)
        for number in range(args.files):
            bank.add_file("NDCAMT53L", sample.replace(b"</MsgId>", f"-{number}</MsgId>".encode(), 1))
        size = sum(len(item["content"]) for item in bank.files.values())
        config = BankWsConfig(
            protocol="bank_ws",
            url=bank.file_url,
            customer_id=CUSTOMER_ID,
            algorithm=args.algorithm,
            signing_key=key_pem,
            signing_cert=ws.certificate_pem(cert),
            bank_roots=bank.root_pem,
            tls_ca=bank.root_pem,
            download_types=("NDCAMT53L",),
            timeout=120,
        )
        rss_before = _rss_mb()
        tracemalloc.start()
        started = time.perf_counter()
        with open_channel(config) as channel:
            remote_files = channel.list()
            listed = time.perf_counter()
            received = 0
            for remote in remote_files:
                received += len(channel.download(remote))
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = _rss_mb()
        timings = channel.timings
    finally:
        bank.stop()
    assert len(remote_files) == args.files and received == size, "every file listed and downloaded"
    print(f"bank Web Services: {args.files} files ({size / 2**20:.1f} MB), {args.algorithm}")
    print(f"  DownloadFileList      {listed - started:8.2f} s")
    print(f"  total                 {elapsed:8.2f} s   {args.files / elapsed:8.1f} files/s")
    accounted = sum(timings.values())
    for name in ("signing", "verification", "transport"):
        share = 100 * timings[name] / accounted if accounted else 0
        print(f"  {name:<21} {timings[name]:8.2f} s   {share:5.1f} %")
    print(f"  peak Python memory    {peak / 2**20:8.1f} MB; RSS growth {rss_after - rss_before:.1f} MB")
    print("  (transport includes the test bank's own work: schema validation, verification, signing)")


if __name__ == "__main__":
    main()
