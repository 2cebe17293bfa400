"""Signatures: CMS detached (cms.py), XAdES-B-B (xades.py), Standard Webhooks HMAC (webhooks.py)."""
