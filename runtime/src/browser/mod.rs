//! Browsers: the control page at `/`, grpc-web beside gRPC on the same
//! port, and the origin check that keeps other web pages from driving the
//! robot.
//!
//! - [`origin`]: which pages may call; everything else is refused first.
//! - [`page`]: the page's files, from the binary.

pub mod origin;
pub mod page;

pub use origin::{OriginLayer, Origins};
pub use page::PageLayer;
