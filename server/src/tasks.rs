//! The server's periodic work over its state: the retention sweep and the audit chain watch.
//! Above the state they read, so that the sweep and the chain checks stay below it.

use std::sync::Arc;
use std::time::Duration;

use crate::handler::AppState;
use crate::{chain, sweep};

/// Sweeps every `interval`, for the life of the server.
pub async fn sweep_every(state: Arc<AppState>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        let (store, media) = (state.store.clone(), state.media.clone());
        let result = tokio::task::spawn_blocking(move || {
            sweep::run_once(store.as_ref(), media.as_ref(), chrono::Utc::now())
        })
        .await;
        match result {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => {
                state.metrics.add_sweep(n);
                tracing::info!(deleted = n, "retention sweep");
            }
            Ok(Err(e)) => tracing::error!(error = %e, "retention sweep failed"),
            Err(e) => tracing::error!(error = %e, "retention sweep task failed"),
        }
    }
}

/// Checks every organization's chain every `interval`, for as long as the server runs.
pub async fn watch_chains(state: Arc<AppState>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        let state = state.clone();
        let checked = tokio::task::spawn_blocking(move || {
            chain::check_all(
                state.store.as_ref(),
                &state.chains,
                state.checkpointer.as_deref(),
            )
        })
        .await;
        match checked {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "audit chain check failed"),
            Err(e) => tracing::error!(error = %e, "audit chain check task failed"),
        }
    }
}
