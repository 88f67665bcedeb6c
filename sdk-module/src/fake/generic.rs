//! A generic component or service whose DoCommand answers with what it was
//! sent, to rehearse a client's round trip.

use crate::host::{Built, kind};
use crate::{AttributeError, Attributes, Document, Generic, Resource, ResourceError};
use axle_wire::settings::keys::Key;

/// The fake generic component and service.
#[derive(Debug, Default)]
pub struct FakeGeneric;

impl FakeGeneric {
    /// It reads no attributes.
    pub const ATTRIBUTES: &[Key] = &[];

    /// A generic component; no attributes.
    pub fn build(_name: &str, _: &Attributes) -> Result<Built, AttributeError> {
        Ok(Built::new::<kind::Generic>(Box::new(Self)))
    }

    /// A generic service; no attributes.
    pub fn build_service(_name: &str, _: &Attributes) -> Result<Built, AttributeError> {
        Ok(Built::new::<kind::GenericService>(Box::new(Self)))
    }
}

impl Resource for FakeGeneric {
    fn do_command(&mut self, command: Document) -> Result<Document, ResourceError> {
        Ok(command)
    }
}

impl Generic for FakeGeneric {}
