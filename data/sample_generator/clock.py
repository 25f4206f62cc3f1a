"""The sample's clock: the as-of date, the activity window, and civil UTC offsets.

The offsets follow the US, UK and German daylight-saving rules directly, so no tz database is
needed (a test checks them against zoneinfo).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

AS_OF_DT = datetime(2026, 11, 15, tzinfo=UTC)
WINDOW_START = datetime(2025, 5, 15, tzinfo=UTC)  # 18 months before the as-of date
DAY = timedelta(days=1)
LAST_MOMENT = AS_OF_DT - timedelta(minutes=30)  # latest time of a past event


def last_sunday(year: int, month: int) -> date:
    d = date(year, month + 1, 1) - DAY if month < 12 else date(year, 12, 31)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def nth_sunday(year: int, month: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(6 - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def utc_offset_hours(zone: str, t: datetime) -> int:
    """Civil UTC offset, computed from the DST rules so no tz database is needed."""
    y = t.year
    if zone == "us_eastern":
        start = datetime.combine(nth_sunday(y, 3, 2), datetime.min.time(), UTC) + timedelta(hours=7)
        end = datetime.combine(nth_sunday(y, 11, 1), datetime.min.time(), UTC) + timedelta(hours=6)
        return -4 if start <= t < end else -5
    start = datetime.combine(last_sunday(y, 3), datetime.min.time(), UTC) + timedelta(hours=1)
    end = datetime.combine(last_sunday(y, 10), datetime.min.time(), UTC) + timedelta(hours=1)
    base = 0 if zone == "uk" else 1
    return base + 1 if start <= t < end else base


def iso_with_zone(t: datetime, style: str, zone: str) -> str:
    """ISO 8601 text with a zone: `Z`, `+00:00`, the local civil offset, or UTC with millis."""
    if style == "z":
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "ms":
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    if style == "utc_offset":
        return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    hours = utc_offset_hours(zone, t)
    local = t + timedelta(hours=hours)
    sign = "+" if hours >= 0 else "-"
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{abs(hours):02d}:00"
