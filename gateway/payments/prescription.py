"""When an unpaid month stops being owed: five years after it fell due (art. 2224 C. civ.).

Each monthly term of a pension is a debt of its own, due the day the title makes it payable; the
action to recover it is barred five years later (art. 2224 C. civ.: "cinq ans à compter du jour où
le titulaire d'un droit a connu ou aurait dû connaître les faits lui permettant de l'exercer").
The period is counted in days and is acquired when its last day ends (art. 2228 and 2229 C. civ.),
so a term due on 10 January 2026 is still owed on 10 January 2031 and barred from the 11th.

The 24 months of L. 581-2 CSS are no time bar on the months the fund collects itself: they only
bound how far back the fund takes over arrears that fell due before the intermediation began.

>>> prescription_date(date(2026, 1, 10))
datetime.date(2031, 1, 10)
"""

from __future__ import annotations

from datetime import date

#: art. 2224 C. civ.
PRESCRIPTION_YEARS = 5


def prescription_date(due_on: date) -> date:
    """The last day a term due on `due_on` is still owed (29 February -> 28 February)."""
    year = due_on.year + PRESCRIPTION_YEARS
    try:
        return due_on.replace(year=year)
    except ValueError:
        return due_on.replace(year=year, day=28)


def is_prescribed(due_on: date, as_of: date) -> bool:
    """True once the prescription date has passed."""
    return as_of > prescription_date(due_on)
