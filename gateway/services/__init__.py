"""Use cases: each takes its ports (gateway.services.ports) and returns typed results."""
