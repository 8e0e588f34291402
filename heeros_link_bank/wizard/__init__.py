from . import match_wizard, payment_batch_wizard, salary_import_wizard
