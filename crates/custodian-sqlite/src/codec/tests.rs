//! Unit tests of the column encodings: stored names agree with the domain's own names, days and
//! timestamps round-trip within the storable range and are refused outside it.

use custodian_core::data::{CampaignStatus, DataClass, OrderStatus, Purpose};
use custodian_core::grant::GrantState;
use custodian_core::personnel::{Permission, Role};
use custodian_core::platform::{Platform, Task};
use time::macros::{date, datetime};

use super::*;

#[track_caller]
fn check_names<T: Named + std::fmt::Debug + PartialEq>(values: &[T], domain: impl Fn(T) -> &'static str) {
    for &value in values {
        assert_eq!(value.name(), domain(value), "{value:?}");
        assert_eq!(T::from_name(value.name()), Some(value));
    }
    assert_eq!(T::from_name("no-such-name"), None);
}

#[test]
fn names_are_the_domain_names() {
    check_names(&Platform::ALL, Platform::as_str);
    check_names(&Task::ALL, Task::as_str);
    check_names(&DataClass::ALL, DataClass::as_str);
    check_names(&Purpose::ALL, Purpose::as_str);
    check_names(&Role::ALL, Role::as_str);
    check_names(&Permission::ALL, Permission::as_str);
    check_names(
        &[
            GrantState::Pending,
            GrantState::Active,
            GrantState::NeedsReview,
            GrantState::Revoked,
            GrantState::Expired,
        ],
        GrantState::as_str,
    );
    check_names(
        &[CampaignStatus::Active, CampaignStatus::Paused, CampaignStatus::Archived, CampaignStatus::Deleted],
        CampaignStatus::as_str,
    );
    check_names(
        &[OrderStatus::Pending, OrderStatus::PartiallyShipped, OrderStatus::Returned],
        OrderStatus::as_str,
    );
}

#[test]
fn days_round_trip_and_sort() {
    for d in [date!(0000 - 01 - 01), date!(0999 - 12 - 31), date!(2024 - 02 - 29), date!(9999 - 12 - 31)] {
        let text = day(d).unwrap();
        assert_eq!(text.len(), 10);
        assert_eq!(parse_day(&text).unwrap(), d);
    }
    assert!(day(date!(2024 - 01 - 09)).unwrap() < day(date!(2024 - 01 - 10)).unwrap());
    assert!(matches!(day(date!(-0001 - 01 - 01)), Err(StoreError::Invalid(_))));
    for bad in ["2024-1-01", "2024-02-30", "20240101xx", "", "2024/01/01"] {
        assert_eq!(parse_day_opt(bad), None, "{bad}");
    }
}

#[test]
fn timestamps_round_trip_within_the_storable_range() {
    for t in [
        datetime!(1970-01-01 00:00 UTC),
        datetime!(2025-06-30 12:34:56.123456789 UTC),
        datetime!(1700-01-01 00:00 UTC),
    ] {
        assert_eq!(at(nanos(t).unwrap()).unwrap(), t);
    }
    let offset = datetime!(2025-01-01 01:00 +01:00);
    assert_eq!(at(nanos(offset).unwrap()).unwrap(), offset);
    for t in [datetime!(1600-01-01 00:00 UTC), datetime!(2300-01-01 00:00 UTC)] {
        assert!(matches!(nanos(t), Err(StoreError::Invalid(_))), "{t}");
    }
}

#[test]
fn counts_and_text_limits() {
    assert_eq!(int("n", u64::try_from(i64::MAX).unwrap()).unwrap(), i64::MAX);
    assert!(matches!(int("n", u64::MAX), Err(StoreError::Invalid(_))));
    assert!(uint::<u64>("n", -1).is_err());
    assert!(flag("f", 2).is_err());
    assert!(check_text("t", "ok", 2).is_ok());
    assert!(check_text("t", "abc", 2).is_err());
    assert!(check_text("t", "a\0", 10).is_err());
}
