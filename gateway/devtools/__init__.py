"""Development and demonstration tools: the dev PKI, the bank simulator, the demo and its receivers."""
