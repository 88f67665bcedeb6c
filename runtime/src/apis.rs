//! Which resource API each gRPC service serves: axle's own (motor, base,
//! input controller), and every other one that a module or a sub-part says
//! it serves (a module in its Ready handler map, a sub-part in
//! ResourceRPCSubtypes). So a call of any API, even one whose `.proto` axle
//! has never seen (`acme:component:widget`), is routed by its service name
//! and the resource name in its first message.

use axle_sdk_module::Api;
use axle_sdk_module::grpc::SERVED_APIS;
use std::collections::BTreeMap;
use std::sync::RwLock;
use tracing::{debug, warn};

/// Service name (`viam.component.camera.v1.CameraService`) → the API it
/// serves.
#[derive(Default)]
pub struct Services {
    learned: RwLock<BTreeMap<String, Api>>,
}

/// axle's own APIs, with their services.
fn own() -> impl Iterator<Item = (Api, &'static str)> {
    SERVED_APIS.iter().map(|(kind, subtype, service)| {
        let api = Api {
            namespace: "rdk".into(),
            kind: (*kind).into(),
            subtype: (*subtype).into(),
        };
        (api, *service)
    })
}

/// The API of `service` if axle serves it itself.
fn own_api(service: &str) -> Option<Api> {
    own().find(|(_, s)| *s == service).map(|(api, _)| api)
}

/// Whether axle's own services serve `api`.
pub fn is_own(api: &Api) -> bool {
    own().any(|(a, _)| a == *api)
}

impl Services {
    /// The API that `service` serves, if axle knows.
    pub fn api_of(&self, service: &str) -> Option<Api> {
        if let Some(api) = own_api(service) {
            return Some(api);
        }
        let learned = self.learned.read().unwrap_or_else(|e| e.into_inner());
        learned.get(service).cloned()
    }

    /// Records that `service` serves `api`, as `who` says.
    pub fn learn(&self, service: &str, api: &Api, who: &str) {
        if service.is_empty() || own_api(service).is_some() {
            return;
        }
        let mut learned = self.learned.write().unwrap_or_else(|e| e.into_inner());
        match learned.insert(service.to_owned(), api.clone()) {
            Some(old) if old != *api => {
                warn!(service, %api, was = %old, who, "a service changed API; calls follow the newest")
            }
            Some(_) => {}
            None => debug!(service, %api, who, "serving a new API"),
        }
    }

    /// Every (API, service) axle serves or forwards: its own first.
    pub fn all(&self) -> Vec<(Api, String)> {
        let own = own().map(|(api, service)| (api, service.to_owned()));
        let learned = self.learned.read().unwrap_or_else(|e| e.into_inner());
        own.chain(learned.iter().map(|(s, a)| (a.clone(), s.clone())))
            .collect()
    }

    /// The service that serves `api`, if axle knows it.
    pub fn service_of(&self, api: &Api) -> Option<String> {
        self.all()
            .into_iter()
            .find(|(a, _)| a == api)
            .map(|(_, s)| s)
    }

    /// Where a Stop for a resource of `api` goes: its service, if `api`
    /// is an actuator's and axle knows the service.
    pub fn stop_service(&self, api: &Api) -> Option<String> {
        if !is_actuator(api) {
            return None;
        }
        self.service_of(api)
    }
}

/// The Viam component APIs whose resources move, and so have a `Stop`
/// (`/<service>/Stop`, request `{name = 1, extra = 99}`): what sessions,
/// StopAll and shutdown stop, whoever serves them.
pub const ACTUATORS: &[&str] = &["arm", "base", "gantry", "gripper", "motor", "servo"];

/// Whether resources of `api` move and can be stopped.
fn is_actuator(api: &Api) -> bool {
    api.namespace == "rdk" && api.kind == "component" && ACTUATORS.contains(&api.subtype.as_str())
}

/// The service a gRPC path calls: `/pkg.Service/Method` → `pkg.Service`.
pub fn service_of(path: &str) -> Option<&str> {
    let mut parts = path.strip_prefix('/')?.split('/');
    let service = parts.next().filter(|s| !s.is_empty())?;
    parts.next()?;
    Some(service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_apis_are_known_and_others_are_learned() {
        let s = Services::default();
        assert_eq!(
            s.api_of("viam.component.motor.v1.MotorService"),
            Some(Api::rdk_component("motor"))
        );
        assert_eq!(s.api_of("acme.widget.v1.WidgetService"), None);
        let widget = Api {
            namespace: "acme".into(),
            kind: "component".into(),
            subtype: "widget".into(),
        };
        s.learn("acme.widget.v1.WidgetService", &widget, "module \"w\"");
        assert_eq!(s.api_of("acme.widget.v1.WidgetService"), Some(widget));
        assert_eq!(s.all().len(), SERVED_APIS.len() + 1);
        assert_eq!(
            service_of("/acme.widget.v1.WidgetService/Spin"),
            Some("acme.widget.v1.WidgetService")
        );
        assert_eq!(service_of("/nothing"), None);
    }
}
