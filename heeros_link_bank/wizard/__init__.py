from . import payment_batch_wizard
