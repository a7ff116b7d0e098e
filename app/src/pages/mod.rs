//! One module per page.

pub mod interactions;
pub mod login;
