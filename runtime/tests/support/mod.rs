//! What the integration tests share (not a test target itself).

pub mod h2load;
