//! The robot builder: turns a config into running resources, in dependency
//! order. Whatever fails (a bad field, an unknown model, a missing dependency,
//! a cycle) fails alone, with an error naming the resource and the field; the
//! rest of the robot is built.

use crate::config::{ComponentConfig, ComponentError, RobotConfig};
use crate::registry::{Built, Registry};
use crate::resources::{Handle, InputControllerHandle, ResourceHandle};
use crate::robot::{ResourceEntry, Robot};
use actix::Arbiter;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tracing::{info, warn};

/// Builds every component of `config` and returns the robot.
pub fn build(config: &RobotConfig, registry: &Registry) -> Robot {
    let mut entries = Vec::new();
    let mut valid: Vec<&ComponentConfig> = Vec::new();
    let mut seen = HashSet::new();
    for entry in &config.components {
        let (error, api) = match entry {
            Ok(c) if seen.insert(c.name.as_str()) => {
                valid.push(c);
                continue;
            }
            Ok(c) => (
                error(c, "name", "another component already has this name".into()),
                Some(c.api.clone()),
            ),
            Err(e) => (e.clone(), None),
        };
        warn!(resource = %error.name, field = %error.field, error = %error.message, "component refused");
        entries.push(ResourceEntry::failed(
            error.name.clone(),
            api,
            None,
            error.to_string(),
        ));
    }

    let (order, mut errors) = dependency_order(&valid);
    let mut ready: HashSet<&str> = HashSet::new();
    for i in order {
        if errors.contains_key(&i) {
            continue;
        }
        let c = valid[i];
        let outcome = match c.depends_on.iter().find(|d| !ready.contains(d.as_str())) {
            Some(dep) => Err(error(
                c,
                "depends_on",
                format!("dependency {dep:?} failed to build"),
            )),
            None => start(c, registry),
        };
        match outcome {
            Ok(handle) => {
                info!(resource = %c.name, api = %c.api, model = %c.model, "resource ready");
                ready.insert(c.name.as_str());
                entries.push(ResourceEntry::ready(c, handle));
            }
            Err(e) => {
                errors.insert(i, e);
            }
        }
    }
    let mut errors: Vec<_> = errors.into_iter().collect();
    errors.sort_by_key(|(i, _)| *i);
    for (i, e) in errors {
        let c = valid[i];
        warn!(resource = %c.name, field = %e.field, error = %e.message, "resource failed to build");
        entries.push(ResourceEntry::failed(
            c.name.clone(),
            Some(c.api.clone()),
            Some(c.model.clone()),
            e.to_string(),
        ));
    }
    Robot::new(entries)
}

fn error(c: &ComponentConfig, field: &str, message: String) -> ComponentError {
    ComponentError {
        name: c.name.clone(),
        field: field.into(),
        message,
    }
}

/// Looks the model up, constructs the driver and starts its actor.
fn start(c: &ComponentConfig, registry: &Registry) -> Result<ResourceHandle, ComponentError> {
    let Some(reg) = registry.lookup(&c.api, &c.model) else {
        return Err(if registry.knows_api(&c.api) {
            error(
                c,
                "model",
                format!(
                    "unknown model {} for {}; known: {:?}",
                    c.model,
                    c.api,
                    registry.models_for(&c.api)
                ),
            )
        } else {
            error(c, "api", format!("unknown api {}", c.api))
        });
    };
    let built = (reg.build)(&c.name, &c.attributes)
        .map_err(|e| error(c, &format!("attributes.{}", e.field), e.problem))?;
    let full: Arc<str> = format!("{}/{}", c.api, c.name).into();
    // A blocking driver gets a thread of its own; the others share the actor thread.
    let arbiter = (reg.blocking)(&c.attributes).then(Arbiter::new);
    let handle = match (built, arbiter) {
        (Built::Motor(d), None) => ResourceHandle::Motor(Handle::start(full, d)),
        (Built::Motor(d), Some(a)) => ResourceHandle::Motor(Handle::start_on(full, d, &a.handle())),
        (Built::Base(d), None) => ResourceHandle::Base(Handle::start(full, d)),
        (Built::Base(d), Some(a)) => ResourceHandle::Base(Handle::start_on(full, d, &a.handle())),
        (Built::InputController(d), _) => {
            ResourceHandle::InputController(InputControllerHandle::start(full, d))
        }
    };
    Ok(handle)
}

/// Orders components so each comes after what it depends on. Components with
/// a missing dependency are ordered but returned as errors (so what depends on
/// them fails for that reason); those in or behind a cycle are left out of the
/// order and returned as errors. Errors are keyed by index.
fn dependency_order(
    components: &[&ComponentConfig],
) -> (Vec<usize>, HashMap<usize, ComponentError>) {
    let index: HashMap<&str, usize> = components
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    let mut errors = HashMap::new();
    for (i, c) in components.iter().enumerate() {
        if let Some(missing) = c
            .depends_on
            .iter()
            .find(|d| !index.contains_key(d.as_str()))
        {
            errors.insert(
                i,
                error(c, "depends_on", format!("no component named {missing:?}")),
            );
        }
    }
    // Kahn's algorithm, in file order among equals.
    let mut pending: Vec<usize> = components.iter().map(|c| c.depends_on.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); components.len()];
    for (i, c) in components.iter().enumerate() {
        for d in &c.depends_on {
            if let Some(&j) = index.get(d.as_str()) {
                dependents[j].push(i);
            } else {
                pending[i] -= 1;
            }
        }
    }
    let mut queue: std::collections::VecDeque<usize> =
        (0..components.len()).filter(|&i| pending[i] == 0).collect();
    let mut order = Vec::new();
    while let Some(i) = queue.pop_front() {
        order.push(i);
        for &k in &dependents[i] {
            pending[k] -= 1;
            if pending[k] == 0 {
                queue.push_back(k);
            }
        }
    }
    let placed: HashSet<usize> = order.iter().copied().collect();
    for i in (0..components.len()).filter(|i| !placed.contains(i)) {
        let msg = describe_cycle(components, &index, &placed, i);
        errors.insert(i, error(components[i], "depends_on", msg));
    }
    (order, errors)
}

/// Follows unplaced dependencies from `start` until a name repeats, and
/// names the cycle found.
fn describe_cycle(
    components: &[&ComponentConfig],
    index: &HashMap<&str, usize>,
    placed: &HashSet<usize>,
    start: usize,
) -> String {
    let mut path = vec![start];
    loop {
        let last = *path.last().unwrap_or(&start);
        let next = components[last]
            .depends_on
            .iter()
            .filter_map(|d| index.get(d.as_str()).copied())
            .find(|j| !placed.contains(j));
        let Some(next) = next else {
            return "depends on a component in a dependency cycle".into();
        };
        if let Some(pos) = path.iter().position(|&p| p == next) {
            let names: Vec<&str> = path[pos..]
                .iter()
                .chain([&next])
                .map(|&p| components[p].name.as_str())
                .collect();
            return if pos == 0 {
                format!("dependency cycle: {}", names.join(" -> "))
            } else {
                format!(
                    "depends on {:?}, which is in a dependency cycle: {}",
                    components[path[1]].name,
                    names.join(" -> ")
                )
            };
        }
        path.push(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RobotConfig {
        RobotConfig::parse(text, "test").unwrap()
    }

    fn order_names(cfg: &RobotConfig) -> (Vec<String>, Vec<String>) {
        let valid: Vec<_> = cfg.components.iter().flatten().collect();
        let (order, errors) = dependency_order(&valid);
        let mut errs: Vec<_> = errors.values().map(|e| e.to_string()).collect();
        errs.sort();
        let ok = order.iter().filter(|i| !errors.contains_key(i));
        (ok.map(|&i| valid[i].name.clone()).collect(), errs)
    }

    fn comp(name: &str, deps: &[&str]) -> String {
        format!(
            r#"{{"name": "{name}", "api": "rdk:component:motor", "model": "fake", "depends_on": {deps:?}}}"#
        )
    }

    #[actix::test]
    async fn a_refused_duplicate_does_not_hide_the_component_it_copies() {
        let cfg = parse(&format!(
            r#"{{"components": [{}, {}]}}"#,
            comp("m", &[]),
            comp("m", &[])
        ));
        let robot = build(&cfg, &Registry::builtin());
        assert_eq!(robot.entries().len(), 2);
        assert!(robot.motor("m").is_ok());
    }

    #[test]
    fn dependencies_come_first() {
        let cfg = parse(&format!(
            r#"{{"components": [{}, {}, {}]}}"#,
            comp("base", &["l", "r"]),
            comp("l", &[]),
            comp("r", &["l"])
        ));
        assert_eq!(
            order_names(&cfg),
            (vec!["l".into(), "r".into(), "base".into()], vec![])
        );
    }

    #[test]
    fn cycles_and_missing_dependencies_fail_alone() {
        let cfg = parse(&format!(
            r#"{{"components": [{}, {}, {}, {}, {}]}}"#,
            comp("a", &["b"]),
            comp("b", &["a"]),
            comp("c", &["a"]),
            comp("d", &["ghost"]),
            comp("e", &[])
        ));
        let (order, errs) = order_names(&cfg);
        assert_eq!(order, ["e"]);
        assert_eq!(
            errs,
            [
                "component \"a\": depends_on: dependency cycle: a -> b -> a",
                "component \"b\": depends_on: dependency cycle: b -> a -> b",
                "component \"c\": depends_on: depends on \"a\", which is in a dependency cycle: a -> b -> a",
                "component \"d\": depends_on: no component named \"ghost\"",
            ]
        );
    }
}
