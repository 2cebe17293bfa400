"""IFPA interoperability gateway: titles in, SEPA files out, every exchange signed and archived."""

__version__ = "0.1.0"
