from . import payment_batch_wizard, salary_import_wizard
