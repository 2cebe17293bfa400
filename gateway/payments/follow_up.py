"""The follow-up deadlines of an unpaid month: notice to pay, then forced recovery (R. 582-8 CSS).

When a month ends unpaid or partly paid (rejected or returned debit, short credit), the fund sends
within 15 days a notice to pay within 15 days, then may start forced recovery (R. 582-8 CSS). For
each such month that is not prescribed:

- `failed_on`: the day the fund learned the month's shortfall, i.e. the day it imported the bank
  report (pain.002 reject, camt.054 return or short credit) that last changed one of the month's
  debits (`debit_progress.updated_at`, the same instant as the report's `bank_reports.imported_at`
  and the `received_at` of its signed archive entry), as a date in metropolitan France like
  `gateway.services.validation.transmission_day`. Not the report's CreDtTm nor an entry's booking date: those
  are the bank's dates, from before the fund could know (the golden camt.054 of returns is created
  on 12 Nov for entries booked on 5 Nov), and the store keeps neither. With a re-presentation the
  month stays pending until the last debit's outcome, so the clock starts when the month's
  shortfall became final;
- `notice_due_by` = `failed_on` + 15 days: the last day to send the notice to pay;
- `payment_due_by` = `notice_due_by` + 15 days: the end of the 15 days the notice gives the debtor,
  counted from the latest day it may be sent (the ledger does not know when a notice was actually
  sent; `follow_up` counts from that day when it is given);
- `recovery_from` = `payment_due_by` + 1 day: the first day forced recovery may start if the debtor
  has not paid.

Calendar days: the texts say "jours" (décret 2022-259 counts "sept jours", "le soixantième jour"),
never "jours ouvrés" or "ouvrables". We count a period from the day after the one that starts it,
and do not extend one that ends on a week-end or holiday.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

#: Days to send the notice to pay once the fund knows a month is unpaid, then days the notice gives
#: the debtor to pay before forced recovery (R. 582-8 CSS). Calendar days.
NOTICE_DAYS = 15
PAYMENT_DAYS = 15
#: The legal day of an import is its date in metropolitan France (as gateway.services.validation does).
_PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True, slots=True)
class FollowUp:
    """The deadlines of an unpaid month (see the module docstring for the rule and its counting)."""

    failed_on: date  # the fund learned the shortfall (bank report imported)
    notice_due_by: date  # last day to send the notice to pay
    payment_due_by: date  # last day the notice gives the debtor to pay
    recovery_from: date  # first day of forced recovery if still unpaid

    def to_json(self) -> dict[str, str]:
        return {key: getattr(self, key).isoformat() for key in FOLLOW_UP_KEYS}


FOLLOW_UP_KEYS = tuple(f.name for f in fields(FollowUp))


def follow_up(failed_on: date, notice_sent_on: date | None = None) -> FollowUp:
    """The deadlines counted from the day the fund learned of the failure, in calendar days.

    The payment period runs from the day the notice was sent when known, else from the last day it
    may be sent (the latest the debtor can be held to pay).

    >>> follow_up(date(2026, 11, 6)).recovery_from  # notice by 21 Nov, payment by 6 Dec
    datetime.date(2026, 12, 7)
    """
    notice_due_by = failed_on + timedelta(days=NOTICE_DAYS)
    payment_due_by = (notice_sent_on or notice_due_by) + timedelta(days=PAYMENT_DAYS)
    return FollowUp(failed_on, notice_due_by, payment_due_by, payment_due_by + timedelta(days=1))


def legal_day(moment: datetime) -> date:
    """The day an instant (an import time, timezone-aware) falls on in metropolitan France."""
    return moment.astimezone(_PARIS).date()
