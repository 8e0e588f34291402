# link_message defines the message model the modules after it extend
from . import link_connection, link_jobs, link_message  # noqa: I001
from . import (
    link_api,
    link_message_ui,
    link_overview,
    link_webhook,
    link_webservices,
    operator_endpoint,
    res_config_settings,
    res_lang,
    res_users,
)
