"""EPC reason codes of SEPA R-transactions (rejects, returns, refunds) and what each means for a dossier.

Sources: EPC130-08 SDD Core Rulebook §4.6 (R-transactions) and the EPC "Guidance on reason codes for
SDD R-transactions" (EPC173-14, v8.0 of November 2024, which also uses RR02/RR03 for payer or payee
address formats that are invalid or no longer supported); the EPC "Guidance on reason codes for
SCT R-transactions" for the credit-transfer codes; the codes themselves are the ISO 20022
ExternalStatusReason1Code / ExternalReturnReason1Code lists.

`action` says what the back-office does with the month (docs/payment-cycle.md "Bank reports"):
- `recover`: the debtor did not pay (no funds, refusal, dispute): notice to pay within 15 days, then
  forced recovery (R. 582-8 CSS), ASF advanced to the creditor meanwhile;
- `fix-data`: our mandate or bank details are wrong or obsolete: correct them, then re-present;
- `retry`: a bank-side or technical failure: re-present the collection unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["recover", "fix-data", "retry"]


@dataclass(frozen=True, slots=True)
class Reason:
    """One EPC/ISO reason code, its meaning and the follow-up it calls for."""

    code: str
    meaning: str
    action: Action


_TABLE: tuple[Reason, ...] = (
    Reason("AC01", "Account identifier incorrect (invalid IBAN)", "fix-data"),
    Reason("AC04", "Account closed", "fix-data"),
    Reason("AC06", "Account blocked, or blocked for direct debits by the debtor", "recover"),
    Reason("AC13", "Debtor account is a consumer account (not allowed for B2B)", "fix-data"),
    Reason("AG01", "Transaction forbidden on this type of account", "fix-data"),
    Reason("AG02", "Operation or transaction code incorrect, invalid file format", "retry"),
    Reason("AM04", "Insufficient funds", "recover"),
    Reason("AM05", "Duplicate collection", "retry"),
    Reason("BE05", "Identifier of the creditor incorrect", "fix-data"),
    Reason("CNOR", "Creditor bank is not registered under this BIC in the CSM", "retry"),
    Reason("CUST", "Cancellation requested by the debtor", "recover"),
    Reason("DNOR", "Debtor bank is not registered under this BIC in the CSM", "fix-data"),
    Reason("DUPL", "Duplicate payment", "retry"),
    Reason("ED05", "Settlement failed", "retry"),
    Reason("FF01", "Operation or transaction code incorrect, invalid file format", "retry"),
    Reason("FOCR", "Return following a cancellation request", "retry"),
    Reason("FRAD", "Fraudulent origin", "fix-data"),
    Reason("MD01", "No mandate, or unauthorised transaction (refund within 13 months)", "fix-data"),
    Reason("MD02", "Mandate data missing or incorrect", "fix-data"),
    Reason("MD06", "Refund request by the debtor (disputed authorised transaction, 8 weeks)", "recover"),
    Reason("MD07", "Debtor deceased", "fix-data"),
    Reason("MS02", "Refusal by the debtor (reason not specified by the customer)", "recover"),
    Reason("MS03", "Reason not specified (by the agent)", "recover"),
    Reason("RC01", "Bank identifier incorrect (invalid BIC)", "fix-data"),
    Reason("RR01", "Missing debtor account or identification (regulatory)", "fix-data"),
    Reason("RR02", "Missing or invalid debtor name or address (regulatory)", "fix-data"),
    Reason("RR03", "Missing or invalid creditor name or address (regulatory)", "fix-data"),
    Reason("RR04", "Regulatory reason", "fix-data"),
    Reason("SL01", "Specific service offered by the debtor agent (e.g. creditor blocked)", "recover"),
    Reason("TECH", "Technical problem", "retry"),
    Reason("TM01", "Received after the cut-off time", "retry"),
)

REASONS: dict[str, Reason] = {reason.code: reason for reason in _TABLE}


def reason_for(code: str | None) -> Reason | None:
    """The known reason of `code`; an unknown code still gets a record (action `recover`: a month that
    did not arrive is treated as unpaid until someone says otherwise)."""
    if code is None:
        return None
    known = REASONS.get(code)
    if known is not None:
        return known
    return Reason(code, "Reason code not in the EPC table", "recover")
