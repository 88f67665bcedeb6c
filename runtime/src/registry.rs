//! Maps (API, model) to a constructor. Built-in models register here; modules
//! and remote parts will register theirs the same way, and the actors do not
//! change.

use crate::data::DataManagerService;
use crate::remote_control::RemoteControlService;
use crate::robot::{Robot, Serving};
pub use axle_sdk_module::host::Built;
use axle_sdk_module::{Api, AttributeError, Attributes, Model};
use std::collections::BTreeMap;

/// Builds a driver from a component's name and attributes.
pub type Constructor = fn(&str, &Attributes) -> Result<Built, AttributeError>;

/// Builds a driver that uses other built-in resources: given their
/// handles, in the order [`Uses::names`] named them.
pub type UsingConstructor =
    fn(&str, &Attributes, Vec<Serving>, &Robot) -> Result<Built, AttributeError>;

/// The resources a component uses, each with the attribute that names it.
pub type UsedNames = fn(&Attributes) -> Result<Vec<(&'static str, String)>, AttributeError>;

/// A model whose drivers use other resources (an encoder on a motor's
/// shaft): which ones, read from the attributes, and how to build with them.
/// The builder adds them to the component's dependencies.
#[derive(Clone, Copy)]
pub struct Uses {
    /// The short names of the resources used, each with the attribute
    /// that names it.
    pub names: UsedNames,
    /// The constructor that takes them.
    pub build: UsingConstructor,
}

/// Judges from a component's attributes whether its driver blocks.
pub type Blocking = fn(&Attributes) -> bool;

/// How a model's drivers are constructed.
#[derive(Clone, Copy)]
pub enum Build {
    /// From the name and attributes alone.
    Plain(Constructor),
    /// With other resources, which the builder builds first.
    Using(Uses),
}

impl Build {
    /// What the model's drivers use, if anything.
    pub fn uses(self) -> Option<Uses> {
        match self {
            Self::Plain(_) => None,
            Self::Using(u) => Some(u),
        }
    }
}

/// How to build one model.
#[derive(Clone, Copy)]
pub struct Registration {
    /// The constructor.
    pub build: Build,
    /// Whether a component's driver blocks (serial bus, file I/O), judged from
    /// its attributes. A blocking driver's actor gets its own thread, so it
    /// cannot stall gRPC I/O, sessions or other actors.
    pub blocking: Blocking,
}

/// For models whose drivers never block.
pub fn never_blocks(_: &Attributes) -> bool {
    false
}

/// For models whose drivers always do work that takes a while.
pub fn always_blocks(_: &Attributes) -> bool {
    true
}

/// The models this process can build.
#[derive(Clone, Default)]
pub struct Registry {
    models: BTreeMap<(Api, Model), Registration>,
}

impl Registry {
    /// The built-in models: a fake of every API axle serves.
    pub fn builtin() -> Self {
        use axle_sdk_module::fake::*;
        let mut r = Self::default();
        let fake = Model::builtin("fake");
        let component = |subtype: &str| Api::rdk_component(subtype);
        let fakes: [(Api, Constructor, Blocking); 15] = [
            (component("motor"), FakeMotor::build, FakeMotor::blocks),
            (component("base"), FakeBase::build, never_blocks),
            (
                component("input_controller"),
                FakeInputController::build,
                never_blocks,
            ),
            (component("servo"), FakeServo::build, never_blocks),
            (component("gripper"), FakeGripper::build, never_blocks),
            (component("arm"), FakeArm::build, never_blocks),
            (component("gantry"), FakeGantry::build, never_blocks),
            (component("sensor"), FakeSensor::build, FakeSensor::blocks),
            (
                component("movement_sensor"),
                FakeMovementSensor::build,
                never_blocks,
            ),
            (
                component("power_sensor"),
                FakePowerSensor::build,
                never_blocks,
            ),
            // Encoding a frame takes milliseconds of CPU: a thread of its own.
            (component("camera"), FakeCamera::build, always_blocks),
            (component("button"), FakeButton::build, never_blocks),
            (component("switch"), FakeSwitch::build, never_blocks),
            (component("generic"), FakeGeneric::build, never_blocks),
            (
                Api::rdk_service("generic"),
                FakeGeneric::build_service,
                never_blocks,
            ),
        ];
        for (api, build, blocking) in fakes {
            let build = Build::Plain(build);
            r.register(api, fake.clone(), Registration { build, blocking });
        }
        // An encoder reads a built-in motor's shaft, or counts at a rate.
        let on_a_motor = Uses {
            names: |a| {
                let motor = FakeEncoder::motor(a)?;
                Ok(motor.into_iter().map(|m| ("motor", m)).collect())
            },
            build: |name, attrs, used, _| {
                let here: Option<Vec<_>> = used.iter().map(|u| u.here().cloned()).collect();
                let here = here.ok_or_else(|| AttributeError {
                    field: "motor".into(),
                    problem:
                        "is served by a module or a part; the fake encoder reads a built-in motor"
                            .into(),
                })?;
                FakeEncoder::build_on(name, attrs, here)
            },
        };
        let encoder = Registration {
            build: Build::Using(on_a_motor),
            blocking: FakeEncoder::blocks,
        };
        r.register(component("encoder"), fake, encoder);
        let remote_control = Registration {
            build: Build::Using(Uses {
                names: RemoteControlService::uses,
                build: RemoteControlService::build,
            }),
            blocking: never_blocks,
        };
        let builtin = Model::builtin("builtin");
        r.register(
            Api::rdk_service("base_remote_control"),
            builtin.clone(),
            remote_control,
        );
        let data_manager = Registration {
            build: Build::Using(Uses {
                names: DataManagerService::uses,
                build: DataManagerService::build,
            }),
            blocking: never_blocks,
        };
        r.register(Api::rdk_service("data_manager"), builtin, data_manager);
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

    /// How many models it can build.
    #[cfg(test)]
    pub fn model_count(&self) -> usize {
        self.models.len()
    }

    /// Whether any model serves `api`.
    pub fn knows_api(&self, api: &Api) -> bool {
        self.models.keys().any(|(a, _)| a == api)
    }
}
