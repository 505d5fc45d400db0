//! Campaign change requests (CAM-1, CAM-2): a change bound to the hash of its diff, four-eyes approval with
//! step-up MFA, execution only of exactly the approved diff, and confirmation by read-back.

use crate::id::string_id;

string_id!(
    /// A campaign change request.
    ChangeId,
    "change id"
);
