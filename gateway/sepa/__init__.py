"""SEPA out: EPC rules, deterministic ids, streaming pain.008/pain.001 writers, XSD validation.

write_pain008(out, header, fund, debits_factory)  -> WriteSummary   (SDD Core collections)
write_pain001(out, header, fund, credits_factory) -> WriteSummary   (SCT payouts, ALMY)
validate_file(path)                               -> version        (official XSD, streamed)
"""

from gateway.sepa.model import (
    Amendment,
    BatchSummary,
    CreditTransfer,
    DirectDebit,
    Fund,
    MessageHeader,
    Pain001Version,
    Pain008Version,
    PostalAddress,
    SequenceType,
    WriteSummary,
)
from gateway.sepa.pain001 import write_pain001
from gateway.sepa.pain008 import write_pain008
from gateway.sepa.xsd import ValidatingSink, validate_file

__all__ = [
    "Amendment",
    "BatchSummary",
    "CreditTransfer",
    "DirectDebit",
    "Fund",
    "MessageHeader",
    "Pain001Version",
    "Pain008Version",
    "PostalAddress",
    "SequenceType",
    "ValidatingSink",
    "WriteSummary",
    "validate_file",
    "write_pain001",
    "write_pain008",
]
