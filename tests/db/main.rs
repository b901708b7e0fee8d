//! Integration tests against real PostgreSQL: one fresh database per test.

mod common;
mod partners;
