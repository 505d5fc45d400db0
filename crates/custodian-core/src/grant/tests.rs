//! Tests of the grant state machine (written next).
