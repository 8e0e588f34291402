"""Golden files of the Finvoice reader: what it read from each sample.

``python -m tests.einvoice.golden`` rewrites them from the reader's output;
do that only after checking that a change in what is read is intended, and
review the difference in the files.
"""

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal

from tests.common import SHARED_DATA, TEST_DATA

SAMPLES = SHARED_DATA / "einvoice" / "samples"
GOLDEN = TEST_DATA / "einvoice" / "finvoice-golden"
LOCAL_SAMPLES = ("finvoice-3.0-soap-body.xml",)


def sample_files():
    """Every Finvoice sample: the public ones and this suite's valid ones."""
    public = sorted(path for path in SAMPLES.rglob("*.xml") if b"<Finvoice" in path.read_bytes())
    return public + [TEST_DATA / "einvoice" / name for name in LOCAL_SAMPLES]


def golden_path(sample):
    try:
        name = sample.relative_to(SAMPLES)
    except ValueError:
        name = sample.relative_to(TEST_DATA)
    return GOLDEN / (str(name).replace("/", "__").removesuffix(".xml") + ".json")


def _plain(value):
    if isinstance(value, Decimal):
        return f"Decimal({value})"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to a golden file")


def dump(invoice):
    """The invoice as JSON text, every Decimal marked as one."""
    return json.dumps(dataclasses.asdict(invoice), default=_plain, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    import odoo.addons

    odoo_root = Path(next(iter(odoo.addons.__path__))).resolve().parent.parent
    odoo.addons.__path__.extend([str(Path(__file__).resolve().parents[2]), str(odoo_root / "addons")])
    from odoo.addons.heeros_link_einvoice.formats import finvoice

    GOLDEN.mkdir(parents=True, exist_ok=True)
    for path in sample_files():
        golden_path(path).write_text(dump(finvoice.parse(path.read_bytes(), path.name)), encoding="utf-8")
        print(golden_path(path).name)
