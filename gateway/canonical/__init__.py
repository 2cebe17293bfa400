"""The canonical dossier message (docs/contract.md "Canonical dossier"): from a transmission, JSON and XML."""
