from . import link_connection, link_jobs, link_message, link_webservices, res_config_settings

# link_message defines the message model the modules after it extend
from . import link_connection, link_jobs, link_message  # noqa: I001
from . import link_api, link_webhook, res_config_settings
from . import link_connection, link_jobs, link_message, operator_endpoint, res_config_settings
