//! The perpchain runtime fuzzer: seeded random sequences of every user-facing call, forged
//! unsigned transactions and adversarial actions, run through the real runtime (`Executive`,
//! the real transaction checks, the offchain worker and the pool's validation), with
//! whole-system invariants after every call and every block (see [`invariants`]).
//!
//! `src/main.rs` is the command line; `regressions/` holds shrunk failing sequences, which
//! `tests/regressions.rs` replays.

pub mod action;
pub mod actors;
pub mod campaign;
pub mod chain;
pub mod generate;
pub mod invariants;
pub mod runner;
