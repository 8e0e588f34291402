"""kill -9 trials of the Link's workers (fetch, process, send) with a bank
taking files from the outbox; prints trials/s and the outcome counts.

    python bench/bench_crash.py -c odoo-test.conf -d heeros_link_test --trials 10 --seed 7

Needs the template ``<database>_tpl`` that ``bash .ci/link test`` makes.
"""

# pylint: disable=print-used
import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--outbound", type=int, default=150)
    opts = parser.parse_args()

    import tests.conftest  # noqa: F401 - puts the addons on Odoo's path
    from odoo.tools import config

    config.parse_config(["-c", opts.config, "-d", opts.database])
    from tests.base.test_crash import run_trial

    totals, failed, start = Counter(), 0, time.monotonic()
    for trial in range(opts.trials):
        states, problems = run_trial(opts.seed + trial, kills=opts.kills, outbound=opts.outbound)
        totals.update(states)
        if problems:
            failed += 1
            print(f"trial {trial} (seed {opts.seed + trial}): " + "; ".join(problems))
    elapsed = time.monotonic() - start
    print(
        f"{opts.trials} trials in {elapsed:.1f} s ({opts.trials / elapsed:.3f} trials/s), "
        f"{failed} with problems; outcomes: {dict(sorted(totals.items()))}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
