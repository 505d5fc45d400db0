//! Test support for Custodian: in-memory fakes of every port ([`fakes`]), fixture builders ([`fixtures`]) and
//! the port contract suites every adapter crate runs against its own implementation ([`contract`]); and a
//! real OpenBao dev server as a child process for the tests that need one ([`openbao`]).
//!
//! Everything here is runtime-agnostic: plain `async` over `std::sync::Mutex` state, no executor of its own,
//! so tests drive it with `futures::executor::block_on` or any runtime. It is a dev-dependency only (style
//! rule 30): nothing in it is fit for production (the seeded random generator is predictable by design).

pub mod contract;
pub mod fakes;
pub mod fixtures;
pub mod openbao;
