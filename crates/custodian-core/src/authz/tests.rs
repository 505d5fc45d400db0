//! Tests of authorization decisions (written next).
