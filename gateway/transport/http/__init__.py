"""The HTTPS edge: app factory, mutual-TLS identity, problem+json, limits, health and metrics."""

from gateway.transport.http.app import AppState, create_app, provide
from gateway.transport.http.error_handlers import problem_response
from gateway.transport.http.identity import (
    Authenticator,
    Caller,
    CallerDep,
    Role,
    RoleMap,
    require_role,
)
from gateway.transport.http.limits import check_media_type, require_media_type
from gateway.transport.http.metrics import Metrics
from gateway.transport.http.tls import PeerCertProtocol, server_config

__all__ = [
    "AppState",
    "Authenticator",
    "Caller",
    "CallerDep",
    "Metrics",
    "PeerCertProtocol",
    "Role",
    "RoleMap",
    "check_media_type",
    "create_app",
    "problem_response",
    "provide",
    "require_media_type",
    "require_role",
    "server_config",
]
