//! Holdfast's rules: pure functions over plain data, shared by the server and the browser app.
//!
//! Nothing in this crate does I/O, reads a clock or draws a random number: callers pass `now` and
//! the facts in, and get a typed outcome back. The same functions run natively in the server and
//! as wasm32 in the browser, so a preview the browser shows is the decision the server makes.

pub mod api;
pub mod audit;
pub mod content;
pub mod deletion;
pub mod domain;
pub mod forecast;
pub mod format;
pub mod genesys;
pub mod holds;
pub mod ids;
pub mod protection;
pub mod retention;
pub mod selection;
pub mod time;
pub mod view;
pub mod wire;

pub use domain::{
    Cap, Direction, FileState, Media, Permission, Permissions, Reason, RecordingRole,
};
pub use ids::{ConversationId, HoldId, OrgId, RecordingId, UserId};
