"""Wall-clock times in a meeting's zone, and the next slot the charter's cadence proposes.

A meeting is entered as a local date and start time in the alliance's zone and stored in UTC: 18:00 in
New York is 23:00 UTC in winter and 22:00 UTC in summer. Pure functions; the callers pass `now`.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from alliances.models import Alliance


class NonexistentTime(ValueError):
    """The wall-clock time is skipped on that day (clocks go forward)."""


def local_to_utc(day: date, start: time, zone: str) -> datetime:
    """The instant `day` at `start` in `zone`. Raises NonexistentTime for a time the clocks skip."""
    tz = ZoneInfo(zone)
    local = datetime.combine(day, start, tzinfo=tz)
    instant = local.astimezone(ZoneInfo("UTC"))
    # zoneinfo accepts 02:30 on the day clocks jump from 02:00 to 03:00 and quietly shifts it; a round
    # trip that does not come back to the same wall clock means the time does not exist there.
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentTime(f"{day} {start} does not exist in {zone}")
    return instant


def utc_to_local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


PERIOD_DAYS: dict[str, int] = {Alliance.Cadence.WEEKLY: 7, Alliance.Cadence.BIWEEKLY: 14}


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The `nth` (1-5) `weekday` of the month, or its last one when the month has fewer."""
    first = date(year, month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last_day = calendar.monthrange(year, month)[1]
    while day.month != month or day.day > last_day:
        day -= timedelta(days=7)
    return day


def _add_month(day: date, weekday: int) -> date:
    # "Monthly on Tuesdays" means the same Tuesday of the month: the 2nd Tuesday, then the 2nd Tuesday.
    nth = (day.day - 1) // 7 + 1
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return _nth_weekday(year, month, weekday, nth)


def _step(day: date, cadence: str, weekday: int) -> date:
    if cadence == Alliance.Cadence.MONTHLY:
        return _add_month(day, weekday)
    target = day + timedelta(days=PERIOD_DAYS.get(cadence, 7))
    # A one-off meeting on another day: back to the usual weekday nearest the regular date.
    shift = (weekday - target.weekday()) % 7
    return target + timedelta(days=shift if shift <= 3 else shift - 7)


@dataclass(frozen=True)
class Slot:
    day: date
    start: time | None
    duration_minutes: int


DEFAULT_DURATION_MINUTES = 90


def next_slot(*, alliance: Alliance, latest: datetime | None, latest_duration: int | None, now: datetime) -> Slot:
    """The next meeting the charter proposes: after the latest meeting (or today), on the usual day and time.

    A charter without a regular cadence ("other") proposes a week after; a proposal that would fall in the
    past (the latest meeting was long ago) moves on by the cadence until it is ahead.
    """
    zone = alliance.time_zone
    today = utc_to_local(now, zone).date()
    latest_local = utc_to_local(latest, zone) if latest else None
    start = alliance.meeting_time or (latest_local.time().replace(second=0, microsecond=0) if latest_local else None)
    duration = alliance.meeting_duration_minutes or latest_duration or DEFAULT_DURATION_MINUTES
    cadence = alliance.cadence or Alliance.Cadence.WEEKLY
    if cadence == Alliance.Cadence.CUSTOM:
        cadence = Alliance.Cadence.WEEKLY

    if latest_local is not None:
        weekday = alliance.meeting_weekday if alliance.meeting_weekday is not None else latest_local.weekday()
        day = _step(latest_local.date(), cadence, weekday)
    else:
        # No meeting yet: the first usual weekday after today.
        weekday = alliance.meeting_weekday if alliance.meeting_weekday is not None else today.weekday()
        day = today + timedelta(days=(weekday - today.weekday()) % 7 or 7)

    def is_past(candidate: date) -> bool:
        if candidate != today:
            return candidate < today
        if start is None:
            return False
        try:
            return local_to_utc(candidate, start, zone) <= now
        except NonexistentTime:
            return False

    while is_past(day):
        day = _step(day, cadence, weekday)
    return Slot(day=day, start=start, duration_minutes=duration)
