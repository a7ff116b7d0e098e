//! One module per page.

pub mod details;
pub mod interactions;
pub mod login;
