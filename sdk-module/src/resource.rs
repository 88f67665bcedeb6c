use crate::{Document, Motion, ResourceError};

/// What every resource answers, whatever its API.
pub trait Resource: Send + 'static {
    /// DoCommand: a model-specific command as a JSON object.
    fn do_command(&mut self, command: Document) -> Result<Document, ResourceError> {
        let keys: Vec<_> = command.keys().cloned().collect();
        Err(ResourceError::Unimplemented(format!(
            "this model has no DoCommand (got {keys:?})"
        )))
    }

    /// GetStatus: the resource's state as a JSON object.
    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(Document::new())
    }
}

/// A resource that moves and can be stopped (motor, base). Sessions and
/// StopAll stop every actuator.
pub trait Actuator: Resource {
    /// Stops all motion now. Must not block.
    fn stop(&mut self) -> Result<(), ResourceError>;

    /// Whether the actuator is moving.
    fn is_moving(&mut self) -> Result<bool, ResourceError>;

    /// Called when the timer of a [`Motion::CheckAfter`] fires: finish the
    /// motion (and return `Done`) or ask to be checked again.
    fn check_motion(&mut self) -> Result<Motion, ResourceError> {
        Ok(Motion::Done)
    }
}
