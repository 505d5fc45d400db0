//! ISO 8601 date-times as the SP-API writes them (`2025-01-01T00:00:00Z`) and reads them: UTC only, with
//! optional fractional seconds and an optional `Z` or zero offset (a non-UTC offset is refused, as Amazon
//! refuses `+09:00`, `selling-partner-api-docs#3324`).

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (written digit by digit: this runs twice per order).
pub(crate) fn format(unix: i64) -> String {
    let mut out = String::with_capacity(20);
    push(&mut out, unix);
    out
}

/// Appends [`format`]'s text to `out` (no allocation of its own).
pub(crate) fn push(out: &mut String, unix: i64) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    push_padded(out, y.clamp(0, 9999).cast_unsigned(), 4);
    out.push('-');
    push_padded(out, m.cast_unsigned(), 2);
    out.push('-');
    push_padded(out, d.cast_unsigned(), 2);
    out.push('T');
    push_padded(out, (secs / 3600).cast_unsigned(), 2);
    out.push(':');
    push_padded(out, (secs / 60 % 60).cast_unsigned(), 2);
    out.push(':');
    push_padded(out, (secs % 60).cast_unsigned(), 2);
    out.push('Z');
}

/// Appends `n` in decimal, zero-padded to at least `width` digits (at most 20).
pub(crate) fn push_padded(out: &mut String, n: u64, width: usize) {
    // Digits are written from the end of a buffer of zeros, so the padding is already in place: one
    // append per number.
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        if let Some(slot) = digits.get_mut(start) {
            *slot = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 || start == 0 {
            break;
        }
    }
    let start = start.min(digits.len().saturating_sub(width));
    out.push_str(std::str::from_utf8(digits.get(start..).unwrap_or_default()).unwrap_or_default());
}

/// Parses a UTC date-time into Unix seconds (fractions are dropped). `None` for anything else.
pub(crate) fn parse(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    if !matches!(bytes.get(10), Some(b'T' | b't'))
        || bytes.get(13) != Some(&b':')
        || bytes.get(16) != Some(&b':')
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = text.get(from..to)?;
        if part.bytes().all(|b| b.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = text.get(19..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = fraction.get(digits..)?;
    }
    if !matches!(rest, "" | "Z" | "z" | "+00:00" | "-00:00" | "+0000") {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
        assert_eq!(format(1_735_689_600), "2025-01-01T00:00:00Z");
        assert_eq!(format(951_782_400), "2000-02-29T00:00:00Z");
        for unix in [0, 1_735_689_600, 951_782_400, 4_102_444_799, 1_700_000_123] {
            assert_eq!(parse(&format(unix)), Some(unix));
        }
        assert_eq!(parse("2025-01-01T00:00:00.999Z"), Some(1_735_689_600));
        assert_eq!(parse("2025-01-01T00:00:00"), Some(1_735_689_600));
        assert_eq!(parse("2025-01-01T00:00:00+00:00"), Some(1_735_689_600));
    }

    #[test]
    fn pads_numbers() {
        let mut out = String::new();
        push_padded(&mut out, 7, 3);
        push_padded(&mut out, 1234, 2);
        push_padded(&mut out, 0, 1);
        assert_eq!(out, "00712340");
        for n in [0, 1, 9, 10, 99, 100, 12_345, 99_999_999_999, u64::MAX] {
            for width in 0..=20 {
                let mut out = String::from("x");
                push_padded(&mut out, n, width);
                assert_eq!(out, format!("x{n:0width$}"), "{n} {width}");
            }
        }
    }

    #[test]
    fn refuses_non_utc_and_malformed_input() {
        for bad in
            ["2025-01-01", "2025-01-01T00:00:00+09:00", "2025-13-01T00:00:00Z", "2025-01-01T00:00:00.Z", "x"]
        {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
