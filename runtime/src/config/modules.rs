//! `modules`: the child processes that serve third-party models.

use super::{open_entry, text_field};
use axle_wire::settings::{parse_duration, show_duration};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// One well-formed module entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleConfig {
    /// Unique among modules; tags the module's logs.
    pub name: String,
    /// The program to run: `<exe> <socket> [--log-level=L]`.
    pub executable_path: PathBuf,
    /// Added to the module's environment, after the `VIAM_*` variables.
    pub env: BTreeMap<String, String>,
    /// Passed as `--log-level=L` when set.
    pub log_level: Option<String>,
    /// How long the module may take from start to answering Ready, and to
    /// answer AddResource, ValidateConfig and RemoveResource.
    pub startup_timeout: Duration,
    /// How long a forwarded call that is not a motion (GoFor, MoveStraight,
    /// ...) may wait for the module before it fails DEADLINE_EXCEEDED.
    pub call_timeout: Duration,
}

impl ModuleConfig {
    /// The startup timeout when the config sets none.
    pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
    /// The call timeout when the config sets none.
    pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);
}

/// A module entry that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("module {name:?}: {field}: {message}")]
pub struct ModuleError {
    /// The module's name, or `modules[i]` if it has none.
    pub name: String,
    /// The field at fault.
    pub field: String,
    /// What was wrong.
    pub message: String,
}

/// A module entry as read: usable, or refused with its error.
pub type ModuleEntry = Result<ModuleConfig, ModuleError>;

/// Reads `modules[index]`.
pub fn parse_module(index: usize, value: &Value) -> ModuleEntry {
    let err = |name: &str, field: &str, message: String| ModuleError {
        name: name.into(),
        field: field.into(),
        message,
    };
    let (obj, name) = open_entry("modules", index, value)
        .map_err(|(name, field, message)| err(&name, field, message))?;
    let text = |field: &str| -> Result<Option<String>, ModuleError> {
        let value = text_field(obj, field).map_err(|m| err(&name, field, m))?;
        Ok(value.map(str::to_string))
    };
    let executable_path = text("executable_path")?
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            err(
                &name,
                "executable_path",
                "missing; set the path of the module's program".into(),
            )
        })?
        .into();
    match text("type")?.as_deref() {
        None | Some("local") => {}
        Some(other) => {
            return Err(err(
                &name,
                "type",
                format!("{other:?} is not supported; axle runs \"local\" modules"),
            ));
        }
    }
    let env = match obj.get("env") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(err(
                    &name,
                    &format!("env.{k}"),
                    format!("expected a string, got {other}"),
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(err(
                &name,
                "env",
                format!("expected an object, got {other}"),
            ));
        }
    };
    let duration = |field: &str, default: Duration| -> Result<Duration, ModuleError> {
        let Some(s) = text(field)? else {
            return Ok(default);
        };
        let d = parse_duration(&s).map_err(|e| err(&name, field, e))?;
        if d.is_zero() {
            return Err(err(
                &name,
                field,
                format!("must be longer than {}", show_duration(d)),
            ));
        }
        Ok(d)
    };
    Ok(ModuleConfig {
        executable_path,
        env,
        log_level: text("log_level")?.filter(|l| !l.is_empty()),
        startup_timeout: duration("startup_timeout", ModuleConfig::DEFAULT_STARTUP_TIMEOUT)?,
        call_timeout: duration("call_timeout", ModuleConfig::DEFAULT_CALL_TIMEOUT)?,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_module_with_defaults() {
        let m = parse_module(
            0,
            &json!({"name": "drive", "executable_path": "/bin/drive", "type": "local"}),
        )
        .unwrap();
        assert_eq!(m.executable_path, PathBuf::from("/bin/drive"));
        assert_eq!(m.startup_timeout, ModuleConfig::DEFAULT_STARTUP_TIMEOUT);
        assert_eq!(m.log_level, None);
        let m = parse_module(
            0,
            &json!({"name": "d", "executable_path": "x", "env": {"A": "1"}, "log_level": "debug", "startup_timeout": "1.5s"}),
        )
        .unwrap();
        assert_eq!(m.env["A"], "1");
        assert_eq!(m.startup_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn bad_entries_name_the_field() {
        for (v, field) in [
            (json!([]), "(entry)"),
            (json!({"executable_path": "x"}), "name"),
            (json!({"name": "m"}), "executable_path"),
            (
                json!({"name": "m", "executable_path": "x", "type": "registry"}),
                "type",
            ),
            (
                json!({"name": "m", "executable_path": "x", "env": {"A": 1}}),
                "env.A",
            ),
            (
                json!({"name": "m", "executable_path": "x", "call_timeout": "soon"}),
                "call_timeout",
            ),
        ] {
            assert_eq!(parse_module(0, &v).unwrap_err().field, field, "{v}");
        }
    }
}
