//! One component per file, named after it.

pub mod cap_meter;
pub mod conversation_table;
pub mod filter_bar;
pub mod icons;
pub mod protect_preview;
pub mod shell;
