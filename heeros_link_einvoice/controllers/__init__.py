from . import einvoice, operator_webhook
