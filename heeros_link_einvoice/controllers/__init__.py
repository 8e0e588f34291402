from . import operator_webhook
