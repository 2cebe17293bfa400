"""The operators' console: server-rendered pages under /console/ for the fund's agents.

Read docs/console.md. `routes.router` is mounted by the HTTP app; it needs a `ConsoleServices`
(services.py) given to `create_app`, and a client certificate of the `operator` role.
"""

from gateway.console.services import ConsoleServices, csrf_key_from

__all__ = ["ConsoleServices", "csrf_key_from"]
