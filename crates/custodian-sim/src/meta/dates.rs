//! Calendar arithmetic for the simulated Meta: days since the Unix epoch ↔ `YYYY-MM-DD`, and Graph's
//! ISO 8601 date-times (`2016-03-11T10:00:00-0800`, offset without a colon).

use std::fmt::Write as _;

use super::insights::push_padded;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day number (`civil_from_days`).
pub(super) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses `YYYY-MM-DD` into a day number.
pub(super) fn parse_day(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let year: i64 = text.get(0..4)?.parse().ok()?;
    let month: i64 = text.get(5..7)?.parse().ok()?;
    let day: i64 = text.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Rejects 2025-02-30 and the like: the round trip must give the same date.
    (civil_from_days(days) == (year, month, day)).then_some(days)
}

/// Appends `YYYY-MM-DD` of a day number.
pub(super) fn write_day(out: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days);
    let part = |v: i64| u64::try_from(v).unwrap_or(0);
    push_padded(out, part(y), 4);
    out.push('-');
    push_padded(out, part(m), 2);
    out.push('-');
    push_padded(out, part(d), 2);
}

/// `YYYY-MM-DD` of a day number.
pub(super) fn day_string(days: i64) -> String {
    let mut out = String::with_capacity(10);
    write_day(&mut out, days);
    out
}

/// Graph's date-time of a Unix time, in UTC: `2016-03-11T18:00:00+0000`.
pub(super) fn datetime_string(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let mut out = day_string(days);
    let _ = write!(out, "T{:02}:{:02}:{:02}+0000", secs / 3600, secs % 3600 / 60, secs % 60);
    out
}

/// Parses what Graph accepts for a date-time parameter: Unix seconds, or ISO 8601
/// `YYYY-MM-DDTHH:MM:SS` followed by `Z`, `±HHMM` or `±HH:MM`.
pub(super) fn parse_datetime(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let date = parse_day(text.get(0..10)?)?;
    if text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let clock = text.get(11..19)?;
    let mut parts = clock.split(':').map(str::parse::<i64>);
    let (h, m, s) = (parts.next()?.ok()?, parts.next()?.ok()?, parts.next()?.ok()?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let zone = text.get(19..)?;
    let offset = match zone {
        "Z" | "" => 0,
        _ => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = zone.get(1..)?.chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 {
                return None;
            }
            let hours: i64 = digits.get(0..2)?.parse().ok()?;
            let minutes: i64 = digits.get(2..4)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    Some(date * 86_400 + h * 3600 + m * 60 + s - offset)
}
