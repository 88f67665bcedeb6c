//! Strict config: every object of a config file declares its keys, and a key
//! that is not declared is refused with its path and the nearest known key.
//! A typo in a safety setting (`"heartbeat_windw"`) must never start a robot
//! that silently runs on the default.
//!
//! The same declarations render the configuration reference, so that the
//! README's reference and the parser cannot drift apart.

use serde_json::{Map, Value};
use std::fmt;

/// One key a config object may hold.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The key as written in JSON.
    pub name: &'static str,
    /// One line for the reference.
    pub doc: &'static str,
    /// What its value holds.
    pub shape: Shape,
}

/// What a key's value holds, as far as key checking goes; its parser checks
/// the value itself.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A value with no keys of its own to check (string, number, list of
    /// strings).
    Value,
    /// An object holding only these keys.
    Object(&'static [Key]),
    /// A list of objects, each holding only these keys.
    List(&'static [Key]),
    /// An object whose keys the user names (hosts, key ids), each value an
    /// object holding only these keys.
    Map(&'static [Key]),
    /// An object whose keys the user names freely (environment variables,
    /// a command's parameters).
    Free,
    /// A key upstream reads and axle accepts without acting on it: a config
    /// shared with viam-server loads, and the log names it.
    Ignored,
    /// A component's `attributes`: the keys its model declares, if the
    /// model is built in; a module's model checks its own.
    Attributes,
}

impl Key {
    /// A key whose value has no keys of its own.
    pub const fn value(name: &'static str, doc: &'static str) -> Self {
        Self {
            name,
            doc,
            shape: Shape::Value,
        }
    }

    /// An upstream key accepted and not acted on.
    pub const fn ignored(name: &'static str, doc: &'static str) -> Self {
        Self {
            name,
            doc,
            shape: Shape::Ignored,
        }
    }

    /// A key with a nested shape.
    pub const fn of(name: &'static str, doc: &'static str, shape: Shape) -> Self {
        Self { name, doc, shape }
    }
}

/// A key that is not known where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `components[2].attributes`, `network.sessions`.
    pub path: String,
    /// What: `unknown key "max_rmp"; did you mean "max_rpm"?`.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// What a check found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Unknown keys: the config is refused.
    pub problems: Vec<Problem>,
    /// Upstream keys accepted and not acted on, by path.
    pub ignored: Vec<String>,
}

/// Finds the keys declared for a list entry's `attributes` (the entry is
/// the component or service object), or `None` when the model checks its
/// own.
pub type ModelKeys<'a> = &'a dyn Fn(&Map<String, Value>) -> Option<&'static [Key]>;

/// Checks every object of `root` against `keys`. Values of the wrong type
/// are left to the parser, which names them better.
pub fn check(root: &Value, keys: &[Key], models: ModelKeys) -> Report {
    let mut report = Report::default();
    if let Value::Object(obj) = root {
        check_object(obj, keys, "", models, &mut report);
    }
    report
}

fn check_object(
    obj: &Map<String, Value>,
    keys: &[Key],
    path: &str,
    models: ModelKeys,
    report: &mut Report,
) {
    for (name, value) in obj {
        let here = join(path, name);
        let Some(key) = keys.iter().find(|k| k.name == name) else {
            report.problems.push(Problem {
                path: if path.is_empty() { "(top level)" } else { path }.to_string(),
                message: unknown(name, keys),
            });
            continue;
        };
        match (key.shape, value) {
            (Shape::Object(inner), Value::Object(o)) => {
                check_object(o, inner, &here, models, report)
            }
            (Shape::List(inner), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Object(o) = item {
                        check_object(o, inner, &format!("{here}[{i}]"), models, report);
                    }
                }
            }
            (Shape::Map(inner), Value::Object(entries)) => {
                for (entry, v) in entries {
                    if let Value::Object(o) = v {
                        check_object(o, inner, &join(&here, entry), models, report);
                    }
                }
            }
            (Shape::Attributes, Value::Object(o)) => {
                if let Some(inner) = models(obj) {
                    check_object(o, inner, &here, models, report);
                }
            }
            (Shape::Ignored, _) => report.ignored.push(here),
            _ => {}
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// `unknown key "max_rmp"; did you mean "max_rpm"?`, or the known keys when
/// none is close.
fn unknown(name: &str, keys: &[Key]) -> String {
    match nearest(name, keys.iter().map(|k| k.name)) {
        Some(near) => format!("unknown key {name:?}; did you mean {near:?}?"),
        None if keys.is_empty() => format!("unknown key {name:?}; this object takes no keys"),
        None => {
            let known: Vec<_> = keys
                .iter()
                .filter(|k| !matches!(k.shape, Shape::Ignored))
                .map(|k| k.name)
                .collect();
            format!("unknown key {name:?}; known keys: {}", known.join(", "))
        }
    }
}

/// The candidate closest to `name`, if it is close enough to be a typo:
/// within two edits (a transposition counts as one) and a third of the
/// name's length, or a unit or suffix away (`capture_frequency` for
/// `capture_frequency_hz`).
pub fn nearest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 2);
    let lower = name.to_ascii_lowercase();
    let score = |c: &str| {
        let c = c.to_ascii_lowercase();
        let edits = strsim::osa_distance(&lower, &c);
        let (short, long) = if lower.len() < c.len() {
            (&lower, &c)
        } else {
            (&c, &lower)
        };
        if edits <= limit {
            Some(edits)
        } else if short.len() >= 4 && long.starts_with(short.as_str()) {
            Some(limit + 1)
        } else {
            None
        }
    };
    candidates
        .filter_map(|c| Some((score(c)?, c)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The reference of `keys` in Markdown: a nested list, one key per line. A
/// table met again (`services` takes `components`' keys) is named, not
/// repeated.
pub fn reference(keys: &[Key]) -> String {
    let mut out = String::new();
    render(keys, 0, &mut Vec::new(), &mut out);
    out
}

fn render(
    keys: &[Key],
    depth: usize,
    seen: &mut Vec<(*const Key, &'static str)>,
    out: &mut String,
) {
    for key in keys {
        let indent = "  ".repeat(depth);
        let (suffix, inner) = match key.shape {
            Shape::Object(inner) => ("", Some(inner)),
            Shape::List(inner) => (" A list; each entry:", Some(inner)),
            Shape::Map(inner) => (" By name; each:", Some(inner)),
            _ => ("", None),
        };
        if let Shape::Ignored = key.shape {
            out.push_str(&format!(
                "{indent}- `{}`: accepted, as upstream reads it; not acted on\n",
                key.name
            ));
            continue;
        }
        let again = inner.and_then(|i| seen.iter().find(|(p, _)| std::ptr::eq(*p, i.as_ptr())));
        match (again, inner) {
            (Some((_, first)), _) => out.push_str(&format!(
                "{indent}- `{}`: {}. Each entry as in `{first}`.\n",
                key.name, key.doc
            )),
            (None, Some(inner)) => {
                out.push_str(&format!("{indent}- `{}`: {}.{suffix}\n", key.name, key.doc));
                seen.push((inner.as_ptr(), key.name));
                render(inner, depth + 1, seen, out);
            }
            (None, None) => out.push_str(&format!("{indent}- `{}`: {}.\n", key.name, key.doc)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SESSIONS: &[Key] = &[
        Key::value("heartbeat_window", "w"),
        Key::value("max_sessions", "m"),
    ];
    const NETWORK: &[Key] = &[
        Key::value("bind_address", "b"),
        Key::of("sessions", "s", Shape::Object(SESSIONS)),
    ];
    const MOTOR: &[Key] = &[Key::value("max_rpm", "r")];
    const COMPONENT: &[Key] = &[
        Key::value("name", "n"),
        Key::value("model", "m"),
        Key::of("attributes", "a", Shape::Attributes),
        Key::ignored("frame", "f"),
    ];
    const ROOT: &[Key] = &[
        Key::of("network", "n", Shape::Object(NETWORK)),
        Key::of("components", "c", Shape::List(COMPONENT)),
    ];

    fn motors(entry: &Map<String, Value>) -> Option<&'static [Key]> {
        (entry.get("model")? == "fake").then_some(MOTOR)
    }

    fn problems(v: Value) -> Vec<String> {
        check(&v, ROOT, &motors)
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn typos_are_refused_with_their_path_and_the_nearest_key() {
        assert_eq!(
            problems(json!({
                "componets": [],
                "network": {"bind_adress": "x", "sessions": {"heartbeat_windw": "500ms"}},
                "components": [
                    {"name": "a", "model": "fake", "attributes": {"max_rpm": 1}},
                    {"name": "b", "model": "fake", "atributes": {}},
                    {"name": "c", "model": "fake", "attributes": {"max_rmp": 500}},
                ]
            })),
            [
                "components[1]: unknown key \"atributes\"; did you mean \"attributes\"?",
                "components[2].attributes: unknown key \"max_rmp\"; did you mean \"max_rpm\"?",
                "(top level): unknown key \"componets\"; did you mean \"components\"?",
                "network: unknown key \"bind_adress\"; did you mean \"bind_address\"?",
                "network.sessions: unknown key \"heartbeat_windw\"; did you mean \"heartbeat_window\"?",
            ]
        );
    }

    #[test]
    fn far_keys_list_the_known_ones_and_modules_check_their_own() {
        assert_eq!(
            problems(json!({"network": {"zzz": 1}})),
            ["network: unknown key \"zzz\"; known keys: bind_address, sessions"]
        );
        let ok = json!({"components": [{"name": "m", "model": "acme:x:y", "attributes": {"anything": 1}, "frame": {}}]});
        let report = check(&ok, ROOT, &motors);
        assert!(report.problems.is_empty());
        assert_eq!(report.ignored, ["components[0].frame"]);
    }

    #[test]
    fn the_reference_nests() {
        let text = reference(ROOT);
        assert!(
            text.contains("- `network`: n.\n  - `bind_address`: b.\n"),
            "{text}"
        );
        assert!(
            text.contains("`frame`: accepted, as upstream reads it"),
            "{text}"
        );
    }
}
