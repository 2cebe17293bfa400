"""Payments domain (no storage): TARGET calendar, collection schedule, mandates."""
