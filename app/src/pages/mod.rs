//! One module per page.

pub mod audit;
pub mod details;
pub mod forecast;
pub mod holds;
pub mod interactions;
pub mod login;
pub mod views;
