//! End-to-end tests of the HTTP API: a real server on a random port, a fresh database
//! per test, spoken to over HTTP. Every test runs on SQLite, and on PostgreSQL when
//! `SAISEI_TEST_POSTGRES_URL` is set (a test fails, not skips, if that server is then
//! unreachable).

mod helpers;

mod access;
mod concurrency;
mod contract;
mod corpus;
mod crud;
mod evaluation;
mod hostile;
mod lifecycle;
mod quality;
mod query_plans;
mod regression;
mod regulation;
mod system;
mod trust;
