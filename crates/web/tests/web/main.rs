//! The web application's inner ring: the real server (API and pages) on a random port
//! over a demo registry, spoken to over HTTP, every page parsed as HTML.

mod bedside;
mod catalogues;
mod helpers;
mod pages;
mod patients;
mod plans;
mod session;
mod visits;
