"""Runtime: the composition root that turns Settings into live objects.

Nothing else in the package builds its own collaborators from globals. ``openers`` holds what
one-shot commands need (the runtime's models and encoder, the database and stores), ``server``
the single-machine server of ``openreel serve``, ``worker`` the body of an ``openreel worker``.
"""

from openreel.runtime.openers import (
    KEYS_DIR,
    Runtime,
    auth_service,
    cli_moderation,
    open_artifacts,
    open_artists,
    open_audit,
    open_auth,
    open_database,
    open_killswitch,
    signing,
)
from openreel.runtime.server import Server
from openreel.runtime.webhooks import open_webhooks
from openreel.runtime.worker import worker_taker

__all__ = [
    "KEYS_DIR",
    "Runtime",
    "Server",
    "auth_service",
    "cli_moderation",
    "open_artifacts",
    "open_artists",
    "open_audit",
    "open_auth",
    "open_database",
    "open_killswitch",
    "open_webhooks",
    "signing",
    "worker_taker",
]
