"""Progress lines for long jobs: rates and an estimate of the time left."""

import datetime


def format_eta(seconds):
    """'0:01:05' for 65.2 seconds; '?' when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return '?'
    return str(datetime.timedelta(seconds=round(seconds)))


def remaining_seconds(done, total, elapsed_seconds):
    """Time left at the average pace so far, or None when it cannot be estimated."""
    if not total or done <= 0 or elapsed_seconds <= 0:
        return None
    return (total - done) * elapsed_seconds / done
