use crate::{Document, Motion, ResourceError};
use serde_json::Value;

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

/// Runs each `{command: argument}` pair of a DoCommand through `run`, and
/// answers `{command: result}`. Unknown commands get an error that lists the
/// supported ones, so a user can correct the call.
pub fn do_commands(
    command: Document,
    supported: &[&str],
    mut run: impl FnMut(&str, Value) -> Result<Value, ResourceError>,
) -> Result<Document, ResourceError> {
    if command.is_empty() {
        return Err(ResourceError::invalid(format!(
            "empty command; supported: {supported:?}"
        )));
    }
    let mut out = Document::new();
    for (key, arg) in command {
        if !supported.contains(&key.as_str()) {
            return Err(ResourceError::invalid(format!(
                "unknown command {key:?}; supported: {supported:?}"
            )));
        }
        let result = run(&key, arg)?;
        out.insert(key, result);
    }
    Ok(out)
}
