//! The `twofactor` binary's library half: configuration and wiring, shared by
//! the CLI and by `testkit`, which boots exactly this app in tests.
#![forbid(unsafe_code)]

pub mod app;
pub mod config;
pub mod hasher;
pub mod master_key;
