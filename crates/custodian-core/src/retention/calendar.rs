//! Calendar arithmetic shared by retention periods and statutory deadlines: calendar months clamped to the
//! month's end, business days with holidays, and day bounds of month periods. Every function saturates at the
//! end of the supported range instead of panicking.

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Weekday};

/// The latest instant `time` can represent: the saturation value of every addition here.
pub(crate) const LATEST: OffsetDateTime = PrimitiveDateTime::MAX.assume_utc();

/// Days in one 400-year Gregorian cycle; the calendar repeats after it.
const DAYS_PER_CYCLE: i64 = 146_097;
/// Months in one 400-year Gregorian cycle.
const MONTHS_PER_CYCLE: u32 = 4_800;

/// `at + duration`, saturating at [`LATEST`].
pub(crate) fn add_duration(at: OffsetDateTime, duration: Duration) -> OffsetDateTime {
    at.checked_add(duration).unwrap_or(LATEST)
}

/// `at` plus `months` calendar months, in `at`'s offset and at its time of day. A day that does not exist in
/// the target month is clamped to the month's last day (Jan 31 + 1 month = Feb 28, or Feb 29 in leap years).
pub(crate) fn add_months(at: OffsetDateTime, months: u32) -> OffsetDateTime {
    let total = i64::from(at.year()) * 12 + i64::from(u8::from(at.month())) - 1 + i64::from(months);
    let Ok(year) = i32::try_from(total.div_euclid(12)) else {
        return LATEST;
    };
    let Ok(month) = u8::try_from(total.rem_euclid(12) + 1).map(Month::try_from) else {
        return LATEST;
    };
    let Ok(month) = month else {
        return LATEST;
    };
    let day = at.day().min(month.length(year));
    match Date::from_calendar_date(year, month, day) {
        Ok(date) => at.replace_date(date),
        Err(_) => LATEST,
    }
}

/// The `n`th business day after `at`'s calendar date (in `at`'s offset), at `at`'s time of day. Business days
/// are Monday to Friday and not in `holidays`; the day of `at` itself is never counted.
pub(crate) fn add_business_days(at: OffsetDateTime, n: u32, holidays: &[Date]) -> OffsetDateTime {
    let mut date = at.date();
    let mut counted = 0;
    while counted < n {
        let Some(next) = date.next_day() else {
            return LATEST;
        };
        date = next;
        if !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) && !holidays.contains(&date) {
            counted += 1;
        }
    }
    at.replace_date(date)
}

/// The shortest and longest length, in whole days, of a period of `months` calendar months over every
/// possible start instant (with the end-of-month clamp of [`add_months`]).
pub(crate) fn month_day_bounds(months: u32) -> (i64, i64) {
    let cycles = i64::from(months / MONTHS_PER_CYCLE);
    let rest = months % MONTHS_PER_CYCLE;
    let mut shortest = i64::MAX;
    let mut longest = 0;
    for year in 2000..2400_i32 {
        for start_month in 0..12_u32 {
            let end_index = start_month + rest;
            let Some(end_year) = i32::try_from(end_index / 12).ok().and_then(|y| year.checked_add(y)) else {
                continue;
            };
            let (Some(start), Some(end)) = (first_of(year, start_month), first_of(end_year, end_index % 12))
            else {
                continue;
            };
            // From the 1st to the 1st; a start day that the end month lacks is clamped, shortening it.
            let span = i64::from(end.to_julian_day() - start.to_julian_day());
            let clamp = i64::from(start.month().length(year)) - i64::from(end.month().length(end_year));
            shortest = shortest.min(span - clamp.max(0));
            longest = longest.max(span);
        }
    }
    let cycle_days = cycles * DAYS_PER_CYCLE;
    (shortest.saturating_add(cycle_days), longest.saturating_add(cycle_days))
}

/// The first day of a zero-based month.
fn first_of(year: i32, month_index: u32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(month_index + 1).ok()?).ok()?;
    Date::from_calendar_date(year, month, 1).ok()
}
