//! The one error type of the HTTP layer and its one mapping to a status and a JSON body
//! `{"message","code","status"}`.

use holdfast_core::api::ErrorBody;
use holdfast_core::deletion::DeletionRefusal;
use holdfast_core::protection::PlanError;
use hyper::StatusCode;

use crate::store::StoreError;

/// Everything a request can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// The body or a parameter does not parse; the text says what is wrong.
    BadRequest(String),
    /// No valid session or token.
    Unauthorized,
    /// Wrong username or password (deliberately not saying which).
    BadCredentials,
    /// Signed in, but without the permission.
    Forbidden(holdfast_core::Permission),
    /// A state-changing request without the CSRF header or from another origin.
    CrossSite,
    NotFound,
    /// The request conflicts with what is stored (a name already taken).
    Conflict(String),
    /// The app's files are missing: the server was started before `cargo xtask build-app`.
    AppNotBuilt,
    /// The path exists with other methods, listed for the `Allow` header.
    MethodNotAllowed {
        allow: String,
    },
    /// A protect or release refused as a whole.
    Plan(PlanError),
    /// A manual deletion or date change refused.
    Deletion(DeletionRefusal),
    PayloadTooLarge {
        limit: usize,
    },
    UnsupportedMediaType,
    /// An upload without `Content-Length`: its size must be known before it is read.
    LengthRequired,
    /// A `Range` outside the file.
    RangeNotSatisfiable {
        size: u64,
    },
    /// Too many sign-in attempts: the next is allowed after this long.
    TooManyRequests {
        retry_after: std::time::Duration,
    },
    /// Too many password checks waiting, or every database connection in use: try again in
    /// a moment. The text says which.
    Busy(&'static str),
    /// The body did not arrive in time.
    RequestTimeout,
    /// The storage cannot take writes (full, read-only, failing): nothing was changed.
    Storage(crate::store::StorageFault),
    /// The change is committed but media storage did not take its legal holds yet (or an
    /// upload could not be stored): the reconciler finishes it; repeating the request is safe.
    MediaStorage(String),
    /// The store failed; logged, and answered without details.
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::CrossSite => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::AppNotBuilt => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Plan(PlanError::MissingPermission { .. }) => StatusCode::FORBIDDEN,
            ApiError::Plan(PlanError::EmptySelection) => StatusCode::BAD_REQUEST,
            ApiError::Plan(PlanError::UnknownHold) => StatusCode::NOT_FOUND,
            ApiError::Plan(_) => StatusCode::CONFLICT,
            ApiError::Deletion(DeletionRefusal::MissingPermission { .. }) => StatusCode::FORBIDDEN,
            ApiError::Deletion(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::LengthRequired => StatusCode::LENGTH_REQUIRED,
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Storage(crate::store::StorageFault::Full) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::MediaStorage(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable, machine-readable code, in the style of Genesys Cloud's error codes.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad.request",
            ApiError::Unauthorized => "not.authorized",
            ApiError::BadCredentials => "bad.credentials",
            ApiError::Forbidden(_) => "missing.permissions",
            ApiError::CrossSite => "csrf.rejected",
            ApiError::NotFound => "not.found",
            ApiError::Conflict(_) => "conflict",
            ApiError::AppNotBuilt => "app.not.built",
            ApiError::MethodNotAllowed { .. } => "method.not.allowed",
            ApiError::Plan(PlanError::MissingPermission { .. }) => "missing.permissions",
            ApiError::Plan(PlanError::EmptySelection) => "empty.selection",
            ApiError::Plan(PlanError::NothingToDo { .. }) => "nothing.to.do",
            ApiError::Plan(PlanError::OverCap { .. }) => "protection.limit.exceeded",
            ApiError::Plan(PlanError::UnknownHold) => "hold.not.found",
            ApiError::Plan(PlanError::HoldReleased) => "hold.released",
            ApiError::Deletion(DeletionRefusal::MissingPermission { .. }) => "missing.permissions",
            ApiError::Deletion(DeletionRefusal::Protected) => "recording.protected",
            ApiError::Deletion(DeletionRefusal::AlreadyDeleted) => "recording.already.deleted",
            ApiError::PayloadTooLarge { .. } => "payload.too.large",
            ApiError::UnsupportedMediaType => "unsupported.media.type",
            ApiError::LengthRequired => "length.required",
            ApiError::RangeNotSatisfiable { .. } => "range.not.satisfiable",
            ApiError::TooManyRequests { .. } => "too.many.requests",
            ApiError::Busy(_) => "server.busy",
            ApiError::RequestTimeout => "request.timeout",
            ApiError::Storage(crate::store::StorageFault::Full) => "storage.full",
            ApiError::Storage(crate::store::StorageFault::ReadOnly) => "storage.read.only",
            ApiError::Storage(crate::store::StorageFault::Io) => "storage.failing",
            ApiError::MediaStorage(_) => "media.storage.failing",
            ApiError::Internal(_) => "internal.server.error",
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::BadRequest(text) => text.clone(),
            ApiError::Unauthorized => "sign in first".to_owned(),
            ApiError::BadCredentials => "wrong username or password".to_owned(),
            ApiError::Forbidden(p) => format!("you do not have the permission {p}"),
            ApiError::CrossSite => {
                "refused: the request did not come from the Holdfast app (missing CSRF header or foreign origin)".to_owned()
            }
            ApiError::NotFound => "not found".to_owned(),
            ApiError::Conflict(text) => text.clone(),
            ApiError::AppNotBuilt => "the app is not built: run `cargo xtask build-app`".to_owned(),
            ApiError::MethodNotAllowed { allow } => {
                format!("this method is not allowed here; allowed: {allow}")
            }
            ApiError::Plan(e) => e.to_string(),
            ApiError::Deletion(e) => e.to_string(),
            ApiError::PayloadTooLarge { limit } => format!("the request body is larger than {limit} bytes"),
            ApiError::UnsupportedMediaType => "send the body as application/json".to_owned(),
            ApiError::LengthRequired => {
                "send the file's size as Content-Length (not chunked)".to_owned()
            }
            ApiError::RangeNotSatisfiable { size } => format!("the range is outside the file of {size} bytes"),
            ApiError::TooManyRequests { retry_after } => {
                let minutes = retry_after.as_secs().div_ceil(60).max(1);
                let unit = if minutes == 1 { "minute" } else { "minutes" };
                format!("too many attempts; try again in {minutes} {unit}")
            }
            ApiError::Busy(why) => (*why).to_owned(),
            ApiError::RequestTimeout => "the request body did not arrive in time".to_owned(),
            ApiError::Storage(fault) => format!(
                "the server's storage is {}: nothing was changed; ask whoever runs the server",
                fault.as_str()
            ),
            ApiError::MediaStorage(why) => why.clone(),
            ApiError::Internal(_) => "the server failed; the request was not carried out".to_owned(),
        }
    }

    /// How many seconds to wait before trying again, for the `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests { retry_after } => Some(retry_after.as_secs().max(1)),
            ApiError::Busy(_) => Some(1),
            ApiError::Storage(_) => Some(60),
            ApiError::MediaStorage(_) => Some(5),
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            message: self.message(),
            code: self.code().to_owned(),
            status: self.status().as_u16(),
            plan: match self {
                ApiError::Plan(plan) => Some(*plan),
                _ => None,
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::BadFilter(view) => ApiError::BadRequest(view.to_string()),
            e @ StoreError::IdTaken(_) => ApiError::Conflict(e.to_string()),
            StoreError::Unavailable(fault, cause) => {
                tracing::error!(cause = %cause, "storage unavailable");
                ApiError::Storage(fault)
            }
            StoreError::Busy => {
                ApiError::Busy("every database connection is in use; try again in a moment")
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}
