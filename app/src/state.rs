//! The app-wide state: who is signed in and the organization's standing against its cap.

use holdfast_core::Permissions;
use holdfast_core::api::{Me, OrgStatusDto};
use holdfast_core::protection::OrgStatus;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};

/// Where the session stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    Checking,
    SignedOut,
    SignedIn(Me),
}

/// Shared through context; every field is a signal, so the struct is `Copy`.
#[derive(Clone, Copy)]
pub struct Session {
    pub phase: RwSignal<Phase>,
    pub org: RwSignal<Option<OrgStatusDto>>,
    /// A notice for the sign-in page, such as "your session has ended".
    pub notice: RwSignal<Option<String>>,
    /// The user's saved views, for the navigation.
    pub views: RwSignal<Vec<holdfast_core::api::SavedView>>,
}

impl Session {
    /// Creates the session state and provides it to every component below.
    pub fn provide() -> Session {
        let session = Session {
            phase: RwSignal::new(Phase::Checking),
            org: RwSignal::new(None),
            notice: RwSignal::new(None),
            views: RwSignal::new(Vec::new()),
        };
        provide_context(session);
        session
    }

    pub fn get() -> Session {
        expect_context::<Session>()
    }

    /// Asks the server who is signed in.
    pub fn refresh(self) {
        spawn_local(async move {
            match api::session().await {
                Ok(me) => self.signed_in(me),
                Err(_) => self.phase.set(Phase::SignedOut),
            }
        });
    }

    pub fn signed_in(self, me: Me) {
        self.notice.set(None);
        self.phase.set(Phase::SignedIn(me));
        self.refresh_org();
        self.refresh_views();
    }

    /// Re-reads the saved views (after a save, rename or delete).
    pub fn refresh_views(self) {
        spawn_local(async move {
            if let Ok(views) = api::views().await {
                self.views.set(views);
            }
        });
    }

    /// Re-reads the protected count and cap (after a commit, say).
    pub fn refresh_org(self) {
        spawn_local(async move {
            match api::org_status().await {
                Ok(status) => self.org.set(Some(status)),
                Err(e) => self.handle_error(&e),
            }
        });
    }

    /// Sends the user to the sign-in page when the session has ended; the address stays, so
    /// they return to where they were.
    pub fn handle_error(self, e: &ApiError) {
        if *e == ApiError::Unauthorized {
            self.notice.set(Some(e.to_string()));
            self.phase.set(Phase::SignedOut);
        }
    }

    pub fn sign_out(self) {
        spawn_local(async move {
            let _ = api::logout().await;
            self.org.set(None);
            self.phase.set(Phase::SignedOut);
        });
    }

    /// The signed-in user, if any.
    pub fn me(self) -> Option<Me> {
        match self.phase.get() {
            Phase::SignedIn(me) => Some(me),
            _ => None,
        }
    }

    /// The permissions, without subscribing the caller to changes.
    pub fn permissions_untracked(self) -> Permissions {
        match self.phase.get_untracked() {
            Phase::SignedIn(me) => {
                Permissions::from_names(me.permissions.iter().map(String::as_str))
                    .unwrap_or_default()
            }
            _ => Permissions::NONE,
        }
    }

    /// The signed-in user's permissions (none when signed out), re-read when they change.
    pub fn permissions(self) -> Permissions {
        self.phase.track();
        self.permissions_untracked()
    }
}

/// The core type from the wire type.
pub fn org_status(dto: OrgStatusDto) -> Option<OrgStatus> {
    holdfast_core::Cap::new(dto.cap).map(|cap| OrgStatus {
        protected: dto.protected,
        cap,
    })
}
