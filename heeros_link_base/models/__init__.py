from . import link_connection, link_jobs, link_message, res_config_settings
from . import bank_ws
