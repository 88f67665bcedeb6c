use crate::Resource;

/// The generic component and service APIs: DoCommand (and GetStatus) only.
pub trait Generic: Resource {}
