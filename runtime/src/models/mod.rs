//! Built-in models. Each registers a constructor in the [`crate::registry`].

pub mod fake;
