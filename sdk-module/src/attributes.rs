//! Typed access to a component's `attributes`, with errors that name the field.

use crate::Document;
use serde_json::Value;
use thiserror::Error;

/// A bad attribute: which field, and what was wrong with it.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("attributes.{field}: {problem}")]
pub struct AttributeError {
    /// The attribute's key.
    pub field: String,
    /// What was expected and what was found.
    pub problem: String,
}

/// A component's attributes, read field by field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(Document);

impl Attributes {
    /// Wraps a JSON object.
    pub fn new(doc: Document) -> Self {
        Self(doc)
    }

    /// The raw JSON object.
    pub fn as_document(&self) -> &Document {
        &self.0
    }

    fn bad(field: &str, expected: &str, got: &Value) -> AttributeError {
        AttributeError {
            field: field.into(),
            problem: format!("expected {expected}, got {got}"),
        }
    }

    /// A finite number, if present.
    pub fn number(&self, field: &str) -> Result<Option<f64>, AttributeError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|n| n.is_finite())
                .map(Some)
                .ok_or_else(|| Self::bad(field, "a number", v)),
        }
    }

    /// A number greater than zero, or `default` when absent.
    pub fn positive_number(&self, field: &str, default: f64) -> Result<f64, AttributeError> {
        match self.number(field)? {
            None => Ok(default),
            Some(n) if n > 0.0 => Ok(n),
            Some(n) => Err(AttributeError {
                field: field.into(),
                problem: format!("must be greater than 0, got {n}"),
            }),
        }
    }

    /// A boolean, or `default` when absent.
    pub fn boolean(&self, field: &str, default: bool) -> Result<bool, AttributeError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| Self::bad(field, "true or false", v)),
        }
    }

    /// A string, or `default` when absent.
    pub fn string(&self, field: &str, default: &str) -> Result<String, AttributeError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(default.into()),
            Some(v) => v
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| Self::bad(field, "a string", v)),
        }
    }

    /// A JSON object, if present.
    pub fn object(&self, field: &str) -> Result<Option<Document>, AttributeError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o.clone())),
            Some(v) => Err(Self::bad(field, "an object", v)),
        }
    }

    /// A list of numbers greater than zero, or `default` when absent.
    pub fn positive_numbers(
        &self,
        field: &str,
        default: &[f64],
    ) -> Result<Vec<f64>, AttributeError> {
        let bad = |v: &Value| Self::bad(field, "a non-empty list of numbers greater than 0", v);
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(default.to_vec()),
            Some(v @ Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|n| {
                    n.as_f64()
                        .filter(|n| n.is_finite() && *n > 0.0)
                        .ok_or_else(|| bad(v))
                })
                .collect(),
            Some(v) => Err(bad(v)),
        }
    }

    /// A list of strings, if present.
    pub fn strings(&self, field: &str) -> Result<Option<Vec<String>>, AttributeError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| Self::bad(field, "a list of strings", v))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => Err(Self::bad(field, "a list of strings", v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(v: Value) -> Attributes {
        Attributes::new(v.as_object().cloned().unwrap())
    }

    #[test]
    fn errors_name_the_field() {
        let a = attrs(json!({"max_rpm": "fast", "ticks": -1, "controls": ["A", 3]}));
        assert_eq!(
            a.positive_number("max_rpm", 100.0).unwrap_err().to_string(),
            "attributes.max_rpm: expected a number, got \"fast\""
        );
        assert!(
            a.positive_number("ticks", 1.0)
                .unwrap_err()
                .to_string()
                .contains("greater than 0")
        );
        assert!(
            a.strings("controls")
                .unwrap_err()
                .to_string()
                .starts_with("attributes.controls")
        );
        assert_eq!(a.positive_number("absent", 7.0).unwrap(), 7.0);
    }
}
