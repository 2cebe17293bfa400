"""Signatures: CMS detached and XAdES-B-B (cms.py), Standard Webhooks HMAC (webhooks.py)."""
