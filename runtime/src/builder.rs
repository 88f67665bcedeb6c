//! The robot builder: turns a config into running resources, built in or
//! modular, in dependency order. Whatever fails (a bad field, an unknown model, a missing dependency,
//! a cycle) fails alone, with an error naming the resource and the field; the
//! rest of the robot is built.

use crate::config::{ComponentConfig, ComponentEntry, ComponentError, RobotConfig};
use crate::modules::Modules;
use crate::registry::{Build, Registration, Registry};
use crate::resources::ResourceHandle;
use crate::robot::{ResourceEntry, ResourceState, Robot};
use actix::{Arbiter, ArbiterHandle};
use axle_sdk_module::Api;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tracing::{info, warn};

/// A config's components, sorted for building: the first of each name is
/// valid; later ones of the same name, and malformed ones, are refused.
#[derive(Default)]
pub struct Sorted {
    /// The components to build, in file order.
    pub valid: Vec<ComponentConfig>,
    /// The refused ones, with their API when it could be read.
    pub refused: Vec<(ComponentError, Option<Api>)>,
}

/// Sorts a config's component entries into valid and refused.
pub fn sort(entries: &[ComponentEntry]) -> Sorted {
    let mut sorted = Sorted::default();
    let mut seen = HashSet::new();
    for entry in entries {
        match entry {
            Ok(c) if seen.insert(c.name.as_str()) => sorted.valid.push(c.clone()),
            Ok(c) => sorted.refused.push((
                error(c, "name", "another component already has this name".into()),
                Some(c.api.clone()),
            )),
            Err(e) => sorted.refused.push((e.clone(), None)),
        }
    }
    sorted
}

/// Builds every component of `config` into an empty `robot`.
pub async fn build_config(
    config: &RobotConfig,
    registry: &Registry,
    modules: &Modules,
    robot: &Robot,
) {
    build(
        sort(&config.components),
        &HashSet::new(),
        registry,
        modules,
        robot,
    )
    .await;
}

/// Builds `components` into `robot`, in dependency order, and records the
/// refused ones. Names in `ready` are serving already: components may
/// depend on them. Components whose model a module serves are added to that
/// module, and the dependencies its ValidateConfig names join the graph.
pub async fn build(
    components: Sorted,
    ready: &HashSet<String>,
    registry: &Registry,
    modules: &Modules,
    robot: &Robot,
) {
    for (error, api) in components.refused {
        warn!(resource = %error.name, field = %error.field, error = %error.message, "component refused");
        robot.insert(ResourceEntry::failed(
            error.name.clone(),
            api,
            None,
            error.to_string(),
        ));
    }
    let mut valid = components.valid;
    let mut refused = HashMap::new();
    for (i, c) in valid.iter_mut().enumerate() {
        if let Err(e) = add_implicit_dependencies(c, registry, modules).await {
            refused.insert(i, e);
        }
    }
    let valid: Vec<&ComponentConfig> = valid.iter().collect();
    refuse_missing_uses(&valid, ready, registry, &mut refused);
    let (order, mut errors) = dependency_order(&valid, ready);
    errors.extend(refused);
    let mut ready: HashSet<&str> = ready.iter().map(String::as_str).collect();
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
            None => start(c, registry, modules, robot).await,
        };
        match outcome {
            Ok((state, thread)) => {
                info!(resource = %c.name, api = %c.api, model = %c.model, "resource ready");
                ready.insert(c.name.as_str());
                robot.insert(ResourceEntry {
                    thread,
                    ..ResourceEntry::ready(c, state)
                });
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
        robot.insert(ResourceEntry::failed(
            c.name.clone(),
            Some(c.api.clone()),
            Some(c.model.clone()),
            e.to_string(),
        ));
    }
}

/// Refuses a built-in component that uses a resource no component is
/// named, naming the attribute that asked for it (`attributes.base`).
fn refuse_missing_uses(
    valid: &[&ComponentConfig],
    ready: &HashSet<String>,
    registry: &Registry,
    refused: &mut HashMap<usize, ComponentError>,
) {
    let exists = |n: &str| ready.contains(n) || valid.iter().any(|c| c.name == n);
    for (i, c) in valid.iter().enumerate() {
        let Some(uses) = registry
            .lookup(&c.api, &c.model)
            .and_then(|r| r.build.uses())
        else {
            continue;
        };
        let Ok(names) = (uses.names)(&c.attributes) else {
            continue;
        };
        if let Some((field, n)) = names.iter().find(|(_, n)| !exists(n)) {
            let e = error(
                c,
                &format!("attributes.{field}"),
                format!("no component named {n:?}"),
            );
            refused.entry(i).or_insert(e);
        }
    }
}

/// Adds to a component's `depends_on` what it uses without saying so: for
/// a modular one, what its module's ValidateConfig names; for a built-in
/// one, what its model reads from its attributes.
pub async fn add_implicit_dependencies(
    c: &mut ComponentConfig,
    registry: &Registry,
    modules: &Modules,
) -> Result<(), ComponentError> {
    let implicit = match registry.lookup(&c.api, &c.model) {
        Some(reg) => match reg.build.uses() {
            Some(uses) => (uses.names)(&c.attributes)
                .map_err(|e| error(c, &format!("attributes.{}", e.field), e.problem))?
                .into_iter()
                .map(|(_, name)| name)
                .collect(),
            None => return Ok(()),
        },
        None if modules.serves(&c.api, &c.model) => modules.validate(c).await.map_err(|e| {
            error(
                c,
                "attributes",
                format!("the module refused the config: {e}"),
            )
        })?,
        None => return Ok(()),
    };
    for d in implicit {
        if !c.depends_on.contains(&d) {
            c.depends_on.push(d);
        }
    }
    Ok(())
}

fn error(c: &ComponentConfig, field: &str, message: String) -> ComponentError {
    ComponentError {
        name: c.name.clone(),
        field: field.into(),
        message,
    }
}

/// Builds a built-in model's driver and starts its actor, or adds the
/// component to the module that serves its model.
async fn start(
    c: &ComponentConfig,
    registry: &Registry,
    modules: &Modules,
    robot: &Robot,
) -> Result<(ResourceState, Option<ArbiterHandle>), ComponentError> {
    if let Some(reg) = registry.lookup(&c.api, &c.model) {
        return start_builtin(c, reg, robot).map(|(h, thread)| (ResourceState::Ready(h), thread));
    }
    if modules.serves(&c.api, &c.model) {
        let dependencies = robot
            .full_names(&c.depends_on)
            .map_err(|d| error(c, "depends_on", format!("dependency {d:?} is not serving")))?;
        return modules
            .add(c, dependencies)
            .await
            .map(|h| (ResourceState::Proxied(h), None))
            .map_err(|e| error(c, "model", e));
    }
    let mut message = if registry.knows_api(&c.api) {
        format!(
            "unknown model {} for {}: no module serves it, and the built-in models are {:?}",
            c.model,
            c.api,
            registry.models_for(&c.api)
        )
    } else {
        format!(
            "no built-in model or module serves model {} for {}",
            c.model, c.api
        )
    };
    for (module, why) in modules.not_ready() {
        message.push_str(&format!("; module {module:?} is not ready: {why}"));
    }
    let field = if registry.knows_api(&c.api) || !modules.not_ready().is_empty() {
        "model"
    } else {
        "api"
    };
    Err(error(c, field, message))
}

/// Constructs a built-in driver and starts its actor; a driver that may
/// block gets a thread of its own (returned, to stop with the resource),
/// the others share the actor thread.
fn start_builtin(
    c: &ComponentConfig,
    reg: Registration,
    robot: &Robot,
) -> Result<(ResourceHandle, Option<ArbiterHandle>), ComponentError> {
    let built = match reg.build {
        Build::Plain(build) => build(&c.name, &c.attributes),
        Build::Using(uses) => {
            let names = (uses.names)(&c.attributes)
                .map_err(|e| error(c, &format!("attributes.{}", e.field), e.problem))?;
            let used = names
                .iter()
                .map(|(field, n)| {
                    robot.serving(n).ok_or_else(|| {
                        error(
                            c,
                            &format!("attributes.{field}"),
                            format!("{n:?} is not serving"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            (uses.build)(&c.name, &c.attributes, used, robot)
        }
    }
    .map_err(|e| error(c, &format!("attributes.{}", e.field), e.problem))?;
    let full: Arc<str> = c.full_name().into();
    let thread = (reg.blocking)(&c.attributes).then(|| Arbiter::new().handle());
    let handle = ResourceHandle::start(full, built, thread.as_ref());
    Ok((handle, thread))
}

/// Orders components so each comes after what it depends on; names in
/// `ready` are built already. Components with a missing dependency are
/// ordered but returned as errors (so what depends on them fails for that
/// reason); those in or behind a cycle are left out of the order and
/// returned as errors. Errors are keyed by index.
fn dependency_order(
    components: &[&ComponentConfig],
    ready: &HashSet<String>,
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
            .find(|d| !index.contains_key(d.as_str()) && !ready.contains(*d))
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
        let (order, errors) = dependency_order(&valid, &HashSet::new());
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
        let robot = Robot::default();
        build_config(&cfg, &Registry::builtin(), &Modules::default(), &robot).await;
        assert_eq!(robot.entries().len(), 2);
        assert!(robot.find::<crate::resources::kind::Motor>("m").is_ok());
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

    /// The strict checks know the attributes of every model the registry builds.
    #[test]
    fn every_registered_model_declares_its_attributes() {
        let registry = Registry::builtin();
        for (api, model, _) in crate::config::schema::MODELS {
            let (api, model) = (api.parse().unwrap(), axle_sdk_module::Model::builtin(model));
            assert!(registry.lookup(&api, &model).is_some(), "{api} {model}");
        }
        assert_eq!(registry.model_count(), crate::config::schema::MODELS.len());
    }
}
