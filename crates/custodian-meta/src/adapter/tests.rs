//! Report cursors and the late-attribution window.

use custodian_core::data::ReportLevel;
use custodian_core::ports::Cursor;
use time::macros::date;

use super::{ReportCursor, repull_query};

#[test]
fn report_cursors_round_trip_and_reject_foreign_ones() {
    for cursor in [
        ReportCursor::Sync { after: "MjQZD".to_owned() },
        ReportCursor::Run { id: "6044775548468".to_owned(), after: "MTAxNTExOTQ1MjAwNzI5NDE=".to_owned() },
    ] {
        assert_eq!(ReportCursor::decode(&cursor.encode()), Some(cursor));
    }
    for foreign in ["MjQZD", "r:abc:MjQZD", "r:123", "x:1"] {
        assert_eq!(ReportCursor::decode(&Cursor(foreign.to_owned())), None, "{foreign}");
    }
}

#[test]
fn the_repull_window_covers_the_last_28_days() {
    let today = date!(2025 - 03 - 31);
    // Synced up to yesterday: the last 28 days are pulled again.
    let q = repull_query(ReportLevel::Ad, date!(2025 - 03 - 30), today);
    assert_eq!((q.from, q.to, q.level), (date!(2025 - 03 - 03), today, ReportLevel::Ad));
    // Behind by more than the window: from the first missing day.
    let q = repull_query(ReportLevel::Campaign, date!(2025 - 01 - 31), today);
    assert_eq!(q.from, date!(2025 - 02 - 01));
}
