"""Tests of gateway.sepa."""
