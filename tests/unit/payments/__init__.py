"""Tests of gateway.payments."""
