//! Holdfast's server: the HTTP API and the app's files over hyper, storage in SQLite.
//!
//! `main.rs` only wires these together; tests use them directly.

pub mod api;
pub mod assets;
pub mod audit_cli;
pub mod auth;
pub mod body;
pub mod chain;
pub mod checkpoints;
pub mod demo;
pub mod error;
pub mod genesys;
pub mod handler;
pub mod http;
pub mod ingest;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod report;
pub mod routes;
pub mod store;
pub mod sweep;
pub mod tasks;
pub mod upload;
pub mod usecase;
