"""The domain core: the transmission and dossier models, identifiers, money, dates and the legal rules."""
