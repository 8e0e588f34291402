from . import einvoice
from . import operator_webhook
