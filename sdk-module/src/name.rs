//! Resource names: the API triplet, the model triplet and the full name
//! `namespace:type:subtype/name`, validated as upstream.

use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// The longest resource name upstream accepts.
pub const MAX_NAME_LEN: usize = 60;

/// Why a name, API or model string was refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum NameError {
    /// The resource name breaks `^[a-zA-Z0-9][-\w]*$` or is too long.
    #[error(
        "name {0:?} is not valid: use letters, digits, '-' and '_', start with a letter or digit, at most 60 characters"
    )]
    InvalidName(String),
    /// A triplet does not have three non-empty `:`-separated parts.
    #[error("{what} {value:?} is not valid: expected three non-empty parts like {example}")]
    InvalidTriplet {
        /// "api" or "model".
        what: &'static str,
        /// The refused string.
        value: String,
        /// A correct example.
        example: &'static str,
    },
}

/// Checks a resource name against upstream's rule: `^[a-zA-Z0-9][-\w]*$`,
/// at most 60 characters.
pub fn validate_name(name: &str) -> Result<(), NameError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if first_ok && rest_ok && name.len() <= MAX_NAME_LEN {
        Ok(())
    } else {
        Err(NameError::InvalidName(name.to_string()))
    }
}

fn split_triplet<'a>(
    value: &'a str,
    what: &'static str,
    example: &'static str,
) -> Result<[&'a str; 3], NameError> {
    let parts: Vec<&str> = value.split(':').collect();
    match parts[..] {
        [a, b, c] if !a.is_empty() && !b.is_empty() && !c.is_empty() => Ok([a, b, c]),
        _ => Err(NameError::InvalidTriplet {
            what,
            value: value.to_string(),
            example,
        }),
    }
}

/// An API: `namespace:type:subtype`, e.g. `rdk:component:motor`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Api {
    /// e.g. `rdk`.
    pub namespace: String,
    /// `component` or `service`.
    pub kind: String,
    /// e.g. `motor`.
    pub subtype: String,
}

impl Api {
    /// A component API of the `rdk` namespace.
    pub fn rdk_component(subtype: &str) -> Self {
        Self {
            namespace: "rdk".into(),
            kind: "component".into(),
            subtype: subtype.into(),
        }
    }
}

impl Api {
    /// A service API of the `rdk` namespace.
    pub fn rdk_service(subtype: &str) -> Self {
        Self {
            namespace: "rdk".into(),
            kind: "service".into(),
            subtype: subtype.into(),
        }
    }
}

impl FromStr for Api {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        let [namespace, kind, subtype] = split_triplet(s, "api", "rdk:component:motor")?;
        Ok(Self {
            namespace: namespace.into(),
            kind: kind.into(),
            subtype: subtype.into(),
        })
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.namespace, self.kind, self.subtype)
    }
}

/// A model: `namespace:family:name`, e.g. `rdk:builtin:fake`. One word means
/// `rdk:builtin:<word>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Model {
    /// e.g. `rdk`.
    pub namespace: String,
    /// e.g. `builtin`.
    pub family: String,
    /// e.g. `fake`.
    pub name: String,
}

impl Model {
    /// A model of the `rdk:builtin` family.
    pub fn builtin(name: &str) -> Self {
        Self {
            namespace: "rdk".into(),
            family: "builtin".into(),
            name: name.into(),
        }
    }
}

impl FromStr for Model {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        if !s.is_empty() && !s.contains(':') {
            return Ok(Self::builtin(s));
        }
        let [namespace, family, name] = split_triplet(s, "model", "rdk:builtin:fake")?;
        Ok(Self {
            namespace: namespace.into(),
            family: family.into(),
            name: name.into(),
        })
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.namespace, self.family, self.name)
    }
}

/// A resource's full name: its API and its name, `rdk:component:motor/left`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceName {
    /// The API the resource serves.
    pub api: Api,
    /// The short name, unique within the robot.
    pub name: String,
}

impl ResourceName {
    /// A name checked against upstream's rule.
    pub fn new(api: Api, name: &str) -> Result<Self, NameError> {
        validate_name(name)?;
        Ok(Self {
            api,
            name: name.to_string(),
        })
    }
}

impl FromStr for ResourceName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        let (api, name) = s.split_once('/').ok_or_else(|| NameError::InvalidTriplet {
            what: "resource name",
            value: s.to_string(),
            example: "rdk:component:motor/left",
        })?;
        Self::new(api.parse()?, name)
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.api, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_upstream_rule() {
        for ok in ["a", "left-motor", "Motor_2", "9lives", &"x".repeat(60)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "_a",
            "a b",
            "a/b",
            "a:b",
            "mötor",
            &"x".repeat(61),
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_word_model_is_builtin() {
        assert_eq!("fake".parse::<Model>().unwrap(), Model::builtin("fake"));
        assert_eq!(
            "acme:motors:x1".parse::<Model>().unwrap().to_string(),
            "acme:motors:x1"
        );
        assert!("acme::x1".parse::<Model>().is_err());
        assert!("".parse::<Model>().is_err());
    }

    #[test]
    fn full_names_round_trip() {
        let n: ResourceName = "rdk:component:motor/left".parse().unwrap();
        assert_eq!(n.api, Api::rdk_component("motor"));
        assert_eq!(n.name, "left");
        assert_eq!(n.to_string(), "rdk:component:motor/left");
        assert!("rdk:component:motor".parse::<ResourceName>().is_err());
        assert!("rdk:motor/left".parse::<ResourceName>().is_err());
        assert!("rdk:component:motor/-x".parse::<ResourceName>().is_err());
    }
}
