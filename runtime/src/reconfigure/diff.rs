//! The difference between the running config and a new one, as a plan of
//! what to take down, change in place, start and build. Pure: the
//! reconfigurer carries it out.

use crate::builder::{self, Sorted};
use crate::config::{
    AuthConfig, ComponentConfig, ModuleConfig, ModuleEntry, RemoteConfig, RemoteEntry, RobotConfig,
    SessionsConfig,
};
use std::collections::{HashMap, HashSet};

/// A component that is serving now, as the diff needs to know it.
#[derive(Debug, Clone, Default)]
pub struct Serving {
    /// What it was built after (`depends_on` and its module's additions).
    pub depends_on: Vec<String>,
    /// The module that serves it, if it is modular.
    pub module: Option<String>,
}

/// Entries of a named list (modules, remotes) that changed.
#[derive(Debug)]
pub struct Changes<T> {
    /// Names that are gone.
    pub removed: Vec<String>,
    /// New configs of entries that differ: restarted.
    pub changed: Vec<T>,
    /// New entries.
    pub added: Vec<T>,
    /// Entries of the new config that are refused: (name, error).
    pub refused: Vec<(String, String)>,
}

impl<T> Changes<T> {
    /// The names of the entries to take down: removed and changed.
    pub fn going(&self, name: impl Fn(&T) -> &str) -> Vec<String> {
        let changed = self.changed.iter().map(|c| name(c).to_string());
        self.removed.iter().cloned().chain(changed).collect()
    }

    /// The entries to start: changed and added.
    pub fn coming(&self) -> impl Iterator<Item = &T> {
        self.changed.iter().chain(&self.added)
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.changed.is_empty() && self.added.is_empty()
    }
}

/// What applying a new config takes.
pub struct Plan {
    /// Serving components to stop and take down, dependents first: removed,
    /// changed, served by a module that goes, or depending on one of these.
    pub retire: Vec<String>,
    /// Modular components whose attributes changed (or whose dependencies
    /// were changed in place): ReconfigureResource keeps their proxy.
    pub reconfigure: Vec<ComponentConfig>,
    /// What to build, and the new config's refused components.
    pub build: Sorted,
    /// Serving components that stay up (including those changed in place).
    pub keep: HashSet<String>,
    /// Module changes.
    pub modules: Changes<ModuleConfig>,
    /// Remote changes.
    pub remotes: Changes<RemoteConfig>,
    /// The new `network.sessions`, if it changed.
    pub sessions: Option<SessionsConfig>,
    /// `network.bind_address` (old, new), if it changed.
    pub bind_address: Option<(Option<String>, Option<String>)>,
    /// The new `auth`, if it changed.
    pub auth: Option<Option<AuthConfig>>,
    /// Whether `network.tls_*` changed.
    pub tls: bool,
    /// Whether `network.fqdn`, `network.mdns` or `network.webrtc` changed.
    pub reach: bool,
}

impl Plan {
    /// Whether the new config changes nothing that is running (failed
    /// components are tried again all the same).
    pub fn is_quiet(&self) -> bool {
        self.retire.is_empty()
            && self.reconfigure.is_empty()
            && self.modules.is_empty()
            && self.remotes.is_empty()
            && self.sessions.is_none()
    }
}

/// Plans the move from `old` (whose components in `serving` are up) to `new`.
pub fn diff(old: &RobotConfig, new: &RobotConfig, serving: &HashMap<String, Serving>) -> Plan {
    let modules = changes(&old.modules, &new.modules, "module", |m| &m.name);
    let remotes = changes(&old.remotes, &new.remotes, "remote", |r| &r.name);
    let restarted: HashSet<String> = modules.going(|m| &m.name).into_iter().collect();
    let before: HashMap<String, ComponentConfig> = by_name(builder::sort(&old.components).valid);
    let mut after = builder::sort(&new.components);

    let mut retire = HashSet::new();
    let mut in_place = HashSet::new();
    for (name, s) in serving {
        let (Some(now), was) = (
            after.valid.iter().find(|c| c.name == *name),
            before.get(name),
        ) else {
            retire.insert(name.clone());
            continue;
        };
        let module_goes = s.module.as_ref().is_some_and(|m| restarted.contains(m));
        if module_goes {
            retire.insert(name.clone());
        } else if was == Some(now) {
            continue;
        } else if s.module.is_some()
            && was.is_some_and(|w| w.api == now.api && w.model == now.model)
        {
            in_place.insert(name.clone());
        } else {
            retire.insert(name.clone());
        }
    }
    // What depends on a changed resource changes with it: modular dependents
    // in place, built-in ones rebuilt.
    loop {
        let before = retire.len() + in_place.len();
        for (name, s) in serving {
            if retire.contains(name) {
                continue;
            }
            if s.depends_on.iter().any(|d| retire.contains(d)) {
                in_place.remove(name);
                retire.insert(name.clone());
            } else if s.depends_on.iter().any(|d| in_place.contains(d)) {
                match s.module {
                    Some(_) => in_place.insert(name.clone()),
                    None => retire.insert(name.clone()),
                };
            }
        }
        if retire.len() + in_place.len() == before {
            break;
        }
    }
    let keep: HashSet<String> = serving
        .keys()
        .filter(|n| !retire.contains(*n))
        .cloned()
        .collect();
    let reconfigure = after
        .valid
        .iter()
        .filter(|c| in_place.contains(&c.name))
        .cloned()
        .collect();
    after.valid.retain(|c| !keep.contains(&c.name));
    Plan {
        retire: dependents_first(retire, serving),
        reconfigure,
        build: after,
        keep,
        modules,
        remotes,
        sessions: (old.sessions != new.sessions).then_some(new.sessions),
        bind_address: (old.bind_address != new.bind_address)
            .then(|| (old.bind_address.clone(), new.bind_address.clone())),
        auth: (old.auth != new.auth).then(|| new.auth.clone()),
        tls: old.tls != new.tls,
        reach: old.reach != new.reach,
    }
}

fn by_name(configs: Vec<ComponentConfig>) -> HashMap<String, ComponentConfig> {
    configs.into_iter().map(|c| (c.name.clone(), c)).collect()
}

/// Orders `names` so that each comes before what it depends on.
fn dependents_first(names: HashSet<String>, serving: &HashMap<String, Serving>) -> Vec<String> {
    fn visit(
        name: &str,
        names: &HashSet<String>,
        serving: &HashMap<String, Serving>,
        done: &mut HashSet<String>,
        order: &mut Vec<String>,
    ) {
        if !done.insert(name.to_string()) {
            return;
        }
        for d in serving.get(name).map(|s| &s.depends_on[..]).unwrap_or(&[]) {
            if names.contains(d) {
                visit(d, names, serving, done, order);
            }
        }
        order.push(name.to_string());
    }
    let mut sorted: Vec<&String> = names.iter().collect();
    sorted.sort();
    let (mut done, mut order) = (HashSet::new(), Vec::new());
    for name in sorted {
        visit(name, &names, serving, &mut done, &mut order);
    }
    order.reverse();
    order
}

/// Something with a unique name in a config list, possibly refused.
trait Entry {
    type Config: Clone + PartialEq;
    fn split(&self) -> Result<&Self::Config, (String, String)>;
}

impl Entry for ModuleEntry {
    type Config = ModuleConfig;
    fn split(&self) -> Result<&ModuleConfig, (String, String)> {
        self.as_ref().map_err(|e| (e.name.clone(), e.to_string()))
    }
}

impl Entry for RemoteEntry {
    type Config = RemoteConfig;
    fn split(&self) -> Result<&RemoteConfig, (String, String)> {
        self.as_ref().map_err(|e| (e.name.clone(), e.to_string()))
    }
}

/// The first valid entry of each name, and the refused ones.
fn valid<E: Entry>(
    entries: &[E],
    what: &str,
    name: impl Fn(&E::Config) -> &str,
) -> (Vec<E::Config>, Vec<(String, String)>) {
    let (mut valid, mut refused) = (Vec::<E::Config>::new(), Vec::new());
    for entry in entries {
        match entry.split() {
            Ok(c) if valid.iter().any(|v| name(v) == name(c)) => refused.push((
                name(c).to_string(),
                format!(
                    "{what} {:?}: name: another {what} already has this name",
                    name(c)
                ),
            )),
            Ok(c) => valid.push(c.clone()),
            Err(refusal) => refused.push(refusal),
        }
    }
    (valid, refused)
}

fn changes<E: Entry>(
    old: &[E],
    new: &[E],
    what: &str,
    name: impl Fn(&E::Config) -> &str + Copy,
) -> Changes<E::Config> {
    let (old, _) = valid(old, what, name);
    let (new, refused) = valid(new, what, name);
    let find = |list: &[E::Config], n: &str| list.iter().find(|c| name(c) == n).cloned();
    Changes {
        removed: old
            .iter()
            .filter(|o| find(&new, name(o)).is_none())
            .map(|o| name(o).to_string())
            .collect(),
        changed: new
            .iter()
            .filter(|n| find(&old, name(n)).is_some_and(|o| o != **n))
            .cloned()
            .collect(),
        added: new
            .iter()
            .filter(|n| find(&old, name(n)).is_none())
            .cloned()
            .collect(),
        refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RobotConfig {
        RobotConfig::parse(text, "test").unwrap()
    }

    fn motor(name: &str, rpm: u32, deps: &[&str]) -> String {
        format!(
            r#"{{"name": "{name}", "api": "rdk:component:motor", "model": "fake", "attributes": {{"max_rpm": {rpm}}}, "depends_on": {deps:?}}}"#
        )
    }

    fn base(name: &str, model: &str, deps: &[&str]) -> String {
        format!(
            r#"{{"name": "{name}", "api": "rdk:component:base", "model": "{model}", "depends_on": {deps:?}}}"#
        )
    }

    fn config(components: &[String], modules: &str) -> RobotConfig {
        parse(&format!(
            r#"{{"components": [{}], "modules": [{modules}]}}"#,
            components.join(",")
        ))
    }

    /// Everything of `config` serving, modular if its model says `acme`.
    fn all_serving(config: &RobotConfig) -> HashMap<String, Serving> {
        config
            .components
            .iter()
            .flatten()
            .map(|c| {
                let module = (c.model.to_string().starts_with("acme")).then(|| "m".to_string());
                let s = Serving {
                    depends_on: c.depends_on.clone(),
                    module,
                };
                (c.name.clone(), s)
            })
            .collect()
    }

    fn names(configs: &[ComponentConfig]) -> Vec<&str> {
        configs.iter().map(|c| c.name.as_str()).collect()
    }

    const MODULE: &str = r#"{"name": "m", "executable_path": "/bin/m"}"#;

    #[test]
    fn an_added_component_is_built_and_nothing_else_moves() {
        let old = config(&[motor("a", 100, &[])], "");
        let new = config(&[motor("a", 100, &[]), motor("b", 100, &[])], "");
        let plan = diff(&old, &new, &all_serving(&old));
        assert!(plan.retire.is_empty());
        assert_eq!(names(&plan.build.valid), ["b"]);
        assert_eq!(plan.keep, HashSet::from(["a".to_string()]));
    }

    #[test]
    fn a_changed_built_in_is_rebuilt_with_what_depends_on_it() {
        let old = config(
            &[
                motor("a", 100, &[]),
                motor("b", 100, &[]),
                base("c", "fake", &["a"]),
            ],
            "",
        );
        let new = config(
            &[
                motor("a", 50, &[]),
                motor("b", 100, &[]),
                base("c", "fake", &["a"]),
            ],
            "",
        );
        let plan = diff(&old, &new, &all_serving(&old));
        assert_eq!(plan.retire, ["c", "a"], "dependents first");
        assert_eq!(names(&plan.build.valid), ["a", "c"]);
        assert_eq!(plan.keep, HashSet::from(["b".to_string()]));
    }

    #[test]
    fn a_modular_attribute_change_is_made_in_place() {
        let old = config(
            &[motor("a", 100, &[]), base("d", "acme:x:drive", &["a"])],
            MODULE,
        );
        let mut new = old.clone();
        if let Ok(c) = &mut new.components[1] {
            c.attributes = axle_sdk_module::Attributes::new(
                serde_json::json!({"width": 2}).as_object().unwrap().clone(),
            );
        }
        let plan = diff(&old, &new, &all_serving(&old));
        assert!(plan.retire.is_empty());
        assert_eq!(names(&plan.reconfigure), ["d"]);
        assert!(plan.build.valid.is_empty());
    }

    #[test]
    fn a_changed_module_takes_its_resources_down_and_back() {
        let old = config(
            &[motor("a", 100, &[]), base("d", "acme:x:drive", &["a"])],
            MODULE,
        );
        let new = config(
            &[motor("a", 100, &[]), base("d", "acme:x:drive", &["a"])],
            r#"{"name": "m", "executable_path": "/bin/m2"}"#,
        );
        let plan = diff(&old, &new, &all_serving(&old));
        assert_eq!(plan.modules.going(|m| &m.name), ["m"]);
        assert_eq!(plan.modules.coming().count(), 1);
        assert_eq!(plan.retire, ["d"]);
        assert_eq!(names(&plan.build.valid), ["d"]);
    }

    #[test]
    fn removed_things_go_and_failed_ones_are_tried_again() {
        let old = config(&[motor("a", 100, &[]), motor("z", 1, &["ghost"])], MODULE);
        let new = config(&[motor("z", 1, &["ghost"])], "");
        let mut serving = all_serving(&old);
        serving.remove("z");
        let plan = diff(&old, &new, &serving);
        assert_eq!(plan.retire, ["a"]);
        assert_eq!(plan.modules.removed, ["m"]);
        assert_eq!(names(&plan.build.valid), ["z"]);
    }

    #[test]
    fn settings_changes_are_noticed() {
        let old = parse("{}");
        let new = parse(
            r#"{"network": {"bind_address": "0.0.0.0:1", "sessions": {"heartbeat_window": "1s"}}}"#,
        );
        let plan = diff(&old, &new, &HashMap::new());
        assert!(plan.sessions.is_some());
        assert_eq!(
            plan.bind_address,
            Some((None, Some("0.0.0.0:1".to_string())))
        );
        assert!(diff(&new, &new, &HashMap::new()).is_quiet());
    }
}
