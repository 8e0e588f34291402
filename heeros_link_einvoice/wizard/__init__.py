from . import reminder_wizard
