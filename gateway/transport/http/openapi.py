"""The OpenAPI document of the app, independent of settings, certificates and storage."""

from __future__ import annotations

import json

from gateway.transport.http.app import create_app
from gateway.transport.http.identity import Authenticator, RoleMap


def openapi_json() -> str:
    """Stable text (sorted keys, final newline) so that openapi/openapi.json diffs stay readable."""
    app = create_app(authenticator=Authenticator(RoleMap()))
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
