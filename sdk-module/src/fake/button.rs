//! A simulated button that counts its pushes.

use super::doc;
use crate::host::{Built, kind};
use crate::{AttributeError, Attributes, Button, Document, Resource, ResourceError};
use axle_wire::settings::keys::Key;
use serde_json::json;

/// The fake button.
#[derive(Debug, Default)]
pub struct FakeButton {
    pushes: u64,
}

impl FakeButton {
    /// It reads no attributes.
    pub const ATTRIBUTES: &[Key] = &[];

    /// No attributes.
    pub fn build(_name: &str, _: &Attributes) -> Result<Built, AttributeError> {
        Ok(Built::new::<kind::Button>(Box::<Self>::default()))
    }
}

impl Resource for FakeButton {
    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(doc(json!({"pushes": self.pushes})))
    }
}

impl Button for FakeButton {
    fn push(&mut self) -> Result<(), ResourceError> {
        self.pushes += 1;
        Ok(())
    }
}
