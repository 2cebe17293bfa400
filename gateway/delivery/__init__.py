"""Back-office delivery: the pull feed and Standard Webhooks-signed pushes with retries (issue 7)."""

from gateway.delivery.feed import DEFAULT_LIMIT, MAX_LIMIT, EventFeed, FeedPage, event_document, parse_cursor
from gateway.delivery.sender import HttpSender, Sender, SendResult
from gateway.delivery.wiring import (
    BackgroundDelivery,
    background_from_settings,
    endpoints_from_settings,
    worker_from_settings,
)
from gateway.delivery.worker import (
    DeliveryWorker,
    Endpoint,
    RetryPolicy,
    RoundStats,
    message_id,
    webhook_body,
)

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "BackgroundDelivery",
    "DeliveryWorker",
    "Endpoint",
    "EventFeed",
    "FeedPage",
    "HttpSender",
    "RetryPolicy",
    "RoundStats",
    "SendResult",
    "Sender",
    "background_from_settings",
    "endpoints_from_settings",
    "event_document",
    "message_id",
    "parse_cursor",
    "webhook_body",
    "worker_from_settings",
]
