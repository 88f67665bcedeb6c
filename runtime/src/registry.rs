//! Maps (API, model) to a constructor. Built-in models register here; modules
//! and remote parts will register theirs the same way, and the actors do not
//! change.

use axle_sdk_module::fake::{FakeBase, FakeInputController, FakeMotor};
pub use axle_sdk_module::host::Built;
use axle_sdk_module::{Api, AttributeError, Attributes, Model};
use std::collections::BTreeMap;

/// Builds a driver from a component's name and attributes.
pub type Constructor = fn(&str, &Attributes) -> Result<Built, AttributeError>;

/// How to build one model.
#[derive(Clone, Copy)]
pub struct Registration {
    /// The constructor.
    pub build: Constructor,
    /// Whether a component's driver blocks (serial bus, file I/O), judged from
    /// its attributes. A blocking driver's actor gets its own thread, so it
    /// cannot stall gRPC I/O, sessions or other actors.
    pub blocking: fn(&Attributes) -> bool,
}

/// For models whose drivers never block.
pub fn never_blocks(_: &Attributes) -> bool {
    false
}

/// The models this process can build.
#[derive(Clone, Default)]
pub struct Registry {
    models: BTreeMap<(Api, Model), Registration>,
}

/// The APIs axle serves, with the gRPC service of each.
pub const SERVED_APIS: &[(&str, &str)] = &[
    ("motor", "viam.component.motor.v1.MotorService"),
    ("base", "viam.component.base.v1.BaseService"),
    (
        "input_controller",
        "viam.component.inputcontroller.v1.InputControllerService",
    ),
];

impl Registry {
    /// The built-in models.
    pub fn builtin() -> Self {
        let mut r = Self::default();
        let fake = Model::builtin("fake");
        r.register(
            Api::rdk_component("motor"),
            fake.clone(),
            Registration {
                build: FakeMotor::build,
                blocking: FakeMotor::blocks,
            },
        );
        r.register(
            Api::rdk_component("base"),
            fake.clone(),
            Registration {
                build: FakeBase::build,
                blocking: never_blocks,
            },
        );
        r.register(
            Api::rdk_component("input_controller"),
            fake,
            Registration {
                build: FakeInputController::build,
                blocking: never_blocks,
            },
        );
        r
    }

    /// Adds (or replaces) a model.
    pub fn register(&mut self, api: Api, model: Model, registration: Registration) {
        self.models.insert((api, model), registration);
    }

    /// How to build `model` for `api`.
    pub fn lookup(&self, api: &Api, model: &Model) -> Option<Registration> {
        self.models.get(&(api.clone(), model.clone())).copied()
    }

    /// The models registered for `api`, for error messages.
    pub fn models_for(&self, api: &Api) -> Vec<String> {
        self.models
            .keys()
            .filter(|(a, _)| a == api)
            .map(|(_, m)| m.to_string())
            .collect()
    }

    /// Whether any model serves `api`.
    pub fn knows_api(&self, api: &Api) -> bool {
        self.models.keys().any(|(a, _)| a == api)
    }
}
