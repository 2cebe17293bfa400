"""Transports at the edge of the gateway: HTTPS for senders and back-offices (bank and feeds later)."""
