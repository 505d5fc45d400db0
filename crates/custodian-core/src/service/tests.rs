//! Unit tests of the service helpers; the use cases are tested end to end in `tests/it` over the
//! testkit fakes.

use super::sync::CursorGuard;
use crate::ports::Cursor;

fn c(s: &str) -> Option<Cursor> {
    Some(Cursor(s.to_owned()))
}

#[test]
fn cursor_guard_stops_on_end_repeat_and_bound() {
    let mut g = CursorGuard::new(100);
    assert_eq!(g.next(c("a")), c("a"));
    assert_eq!(g.next(c("b")), c("b"));
    assert_eq!(g.next(c("a")), None, "a repeated cursor ends the chain");
    let mut g = CursorGuard::new(100);
    assert_eq!(g.next(None), None);
    let mut g = CursorGuard::new(3);
    assert_eq!(g.next(c("1")), c("1"));
    assert_eq!(g.next(c("2")), c("2"));
    assert_eq!(g.next(c("3")), None, "the page bound ends a runaway chain");
}
