"""The canonical dossier message (CONTRACT.md §6): built from a transmission, as JSON and as XML."""
