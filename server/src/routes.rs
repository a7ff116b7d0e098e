//! Every route, parsed once from method and path into an enum that the dispatcher matches
//! exhaustively.

use hyper::Method;

use crate::error::ApiError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Health,
    SessionGet,
    Login,
    Logout,
    OrgStatus,
    Conversations,
    SelectionSummary,
    Protection,
    /// A file of the app, or the app's page for a client-side route.
    Asset(String),
}

/// The route for a request, or the error to answer with: unknown API paths are 404 and known
/// paths with another method are 405, both as JSON.
pub fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    let api = |allowed: &[(Method, Route)]| {
        allowed
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, r)| r.clone())
            .ok_or(ApiError::MethodNotAllowed)
    };
    match path {
        "/healthz" => api(&[(Method::GET, Route::Health)]),
        "/api/session" => api(&[
            (Method::GET, Route::SessionGet),
            (Method::POST, Route::Login),
            (Method::DELETE, Route::Logout),
        ]),
        "/api/org/status" => api(&[(Method::GET, Route::OrgStatus)]),
        "/api/conversations" => api(&[(Method::GET, Route::Conversations)]),
        "/api/selection/summary" => api(&[(Method::POST, Route::SelectionSummary)]),
        "/api/protection" => api(&[(Method::POST, Route::Protection)]),
        _ if path == "/api" || path.starts_with("/api/") || path.starts_with("/oauth/") => {
            Err(ApiError::NotFound)
        }
        _ => match *method {
            Method::GET | Method::HEAD => Ok(Route::Asset(path.to_owned())),
            _ => Err(ApiError::MethodNotAllowed),
        },
    }
}

impl Route {
    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Route::Health => "health",
            Route::SessionGet => "session.get",
            Route::Login => "session.login",
            Route::Logout => "session.logout",
            Route::OrgStatus => "org.status",
            Route::Conversations => "conversations.list",
            Route::SelectionSummary => "selection.summary",
            Route::Protection => "protection.change",
            Route::Asset(_) => "asset",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(method: Method, path: &str, expect: Result<Route, &str>) {
        let got = route(&method, path).map_err(|e| e.code());
        assert_eq!(got, expect, "{method} {path}");
    }

    #[test]
    fn routes() {
        check(Method::GET, "/healthz", Ok(Route::Health));
        check(Method::POST, "/api/session", Ok(Route::Login));
        check(Method::DELETE, "/api/session", Ok(Route::Logout));
        check(Method::PUT, "/api/session", Err("method.not.allowed"));
        check(Method::GET, "/api/nope", Err("not.found"));
        check(Method::GET, "/oauth/nope", Err("not.found"));
        check(Method::GET, "/interactions", Ok(Route::Asset("/interactions".to_owned())));
        check(Method::POST, "/index.html", Err("method.not.allowed"));
    }
}
