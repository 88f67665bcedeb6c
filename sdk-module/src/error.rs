use thiserror::Error;

/// What a resource call can fail with. Each kind maps to one gRPC status code,
/// so the message is what the user reads: say what was wrong and with what.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum ResourceError {
    /// The request's arguments are wrong (INVALID_ARGUMENT).
    #[error("{0}")]
    InvalidArgument(String),
    /// The operation was ended before it finished, e.g. by Stop (ABORTED).
    #[error("{0}")]
    Aborted(String),
    /// The model does not do this (UNIMPLEMENTED).
    #[error("{0}")]
    Unimplemented(String),
    /// The resource is not in a state that allows this (FAILED_PRECONDITION).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The resource cannot be reached now (UNAVAILABLE).
    #[error("{0}")]
    Unavailable(String),
    /// The driver failed (INTERNAL).
    #[error("{0}")]
    Internal(String),
}

impl ResourceError {
    /// An INVALID_ARGUMENT error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument(message.into())
    }
}

impl ResourceError {
    /// The error a remote resource's gRPC status stands for: the inverse of
    /// `From<ResourceError> for Status`, with the other codes mapped to the
    /// nearest kind.
    pub fn from_status(s: &tonic::Status) -> Self {
        use tonic::Code;
        let message = s.message().to_string();
        match s.code() {
            Code::InvalidArgument | Code::OutOfRange => Self::InvalidArgument(message),
            Code::Aborted | Code::Cancelled => Self::Aborted(message),
            Code::Unimplemented => Self::Unimplemented(message),
            Code::FailedPrecondition | Code::NotFound => Self::FailedPrecondition(message),
            Code::Unavailable | Code::DeadlineExceeded => Self::Unavailable(message),
            _ => Self::Internal(message),
        }
    }
}

impl From<crate::AttributeError> for ResourceError {
    fn from(e: crate::AttributeError) -> Self {
        Self::InvalidArgument(format!("attributes.{}: {}", e.field, e.problem))
    }
}

impl From<ResourceError> for tonic::Status {
    fn from(e: ResourceError) -> Self {
        let code = match &e {
            ResourceError::InvalidArgument(_) => tonic::Code::InvalidArgument,
            ResourceError::Aborted(_) => tonic::Code::Aborted,
            ResourceError::Unimplemented(_) => tonic::Code::Unimplemented,
            ResourceError::FailedPrecondition(_) => tonic::Code::FailedPrecondition,
            ResourceError::Unavailable(_) => tonic::Code::Unavailable,
            ResourceError::Internal(_) => tonic::Code::Internal,
        };
        tonic::Status::new(code, e.to_string())
    }
}
