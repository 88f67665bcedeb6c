//! Rust types and tonic services generated from axle's `.proto` files.
//!
//! The files under `proto/viam/` are our own, written from the public Viam
//! wire facts: same packages, services, messages and field numbers, trimmed to
//! what axle serves.

#![allow(clippy::all, missing_docs)]

/// axle's own additions to the robot API.
pub mod axle {
    pub mod v1 {
        tonic::include_proto!("axle.v1");
    }
}

pub mod viam {
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("viam.common.v1");
        }
    }
    pub mod robot {
        pub mod v1 {
            tonic::include_proto!("viam.robot.v1");
        }
    }
    pub mod app {
        pub mod v1 {
            tonic::include_proto!("viam.app.v1");
        }
        pub mod data {
            pub mod v1 {
                tonic::include_proto!("viam.app.data.v1");
            }
        }
        pub mod datasync {
            pub mod v1 {
                tonic::include_proto!("viam.app.datasync.v1");
            }
        }
    }
    pub mod module {
        pub mod v1 {
            tonic::include_proto!("viam.module.v1");
        }
    }
    pub mod service {
        pub mod baseremotecontrol {
            pub mod v1 {
                tonic::include_proto!("viam.service.baseremotecontrol.v1");
            }
        }
        pub mod generic {
            pub mod v1 {
                tonic::include_proto!("viam.service.generic.v1");
            }
        }
        pub mod datamanager {
            pub mod v1 {
                tonic::include_proto!("viam.service.datamanager.v1");
            }
        }
    }
    pub mod component {
        pub mod motor {
            pub mod v1 {
                tonic::include_proto!("viam.component.motor.v1");
            }
        }
        pub mod base {
            pub mod v1 {
                tonic::include_proto!("viam.component.base.v1");
            }
        }
        pub mod inputcontroller {
            pub mod v1 {
                tonic::include_proto!("viam.component.inputcontroller.v1");
            }
        }
        pub mod arm {
            pub mod v1 {
                tonic::include_proto!("viam.component.arm.v1");
            }
        }
        pub mod camera {
            pub mod v1 {
                tonic::include_proto!("viam.component.camera.v1");
            }
        }
        pub mod button {
            pub mod v1 {
                tonic::include_proto!("viam.component.button.v1");
            }
        }
        pub mod gantry {
            pub mod v1 {
                tonic::include_proto!("viam.component.gantry.v1");
            }
        }
        pub mod gripper {
            pub mod v1 {
                tonic::include_proto!("viam.component.gripper.v1");
            }
        }
        pub mod servo {
            pub mod v1 {
                tonic::include_proto!("viam.component.servo.v1");
            }
        }
        pub mod switch {
            pub mod v1 {
                tonic::include_proto!("viam.component.switch.v1");
            }
        }
        pub mod encoder {
            pub mod v1 {
                tonic::include_proto!("viam.component.encoder.v1");
            }
        }
        pub mod sensor {
            pub mod v1 {
                tonic::include_proto!("viam.component.sensor.v1");
            }
        }
        pub mod movementsensor {
            pub mod v1 {
                tonic::include_proto!("viam.component.movementsensor.v1");
            }
        }
        pub mod powersensor {
            pub mod v1 {
                tonic::include_proto!("viam.component.powersensor.v1");
            }
        }
        pub mod generic {
            pub mod v1 {
                tonic::include_proto!("viam.component.generic.v1");
            }
        }
    }
}

/// goutils' RPC packages: authentication, WebRTC signaling and gRPC over
/// data channels.
pub mod proto {
    pub mod rpc {
        pub mod v1 {
            tonic::include_proto!("proto.rpc.v1");
        }
        pub mod webrtc {
            pub mod v1 {
                tonic::include_proto!("proto.rpc.webrtc.v1");
            }
        }
    }
}

/// `google.rpc.Status`; generated code refers to it at this path.
pub mod google {
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}

pub use proto::rpc::v1 as rpc;
pub use proto::rpc::webrtc::v1 as webrtc;
pub use viam::app::v1 as app;
pub use viam::common::v1 as common;
pub use viam::component::base::v1 as base;
pub use viam::component::camera::v1 as camera;
pub use viam::component::inputcontroller::v1 as inputcontroller;
pub use viam::component::motor::v1 as motor;
pub use viam::module::v1 as module;
pub use viam::robot::v1 as robot;

include!(concat!(env!("OUT_DIR"), "/safety_monitored.rs"));

/// Whether calls to this gRPC path (`/package.Service/Method`) are safety
/// monitored: they keep a session alive and mark the session as the
/// resource's last user.
pub fn is_safety_monitored(path: &str) -> bool {
    SAFETY_MONITORED_METHODS.binary_search(&path).is_ok()
}

/// Every file of our protos as a `FileDescriptorSet` (options included),
/// for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/axle_descriptor.bin"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitored_methods_match_upstream() {
        // Upstream's monitored methods of the eight APIs that have any
        // (arm, base, button, gantry, gripper, motor, servo, switch).
        let expected = [
            "/viam.component.arm.v1.ArmService/MoveThroughJointPositions",
            "/viam.component.arm.v1.ArmService/MoveThroughJointPositionsStreamed",
            "/viam.component.arm.v1.ArmService/MoveToJointPositions",
            "/viam.component.arm.v1.ArmService/MoveToPosition",
            "/viam.component.base.v1.BaseService/MoveStraight",
            "/viam.component.base.v1.BaseService/SetPower",
            "/viam.component.base.v1.BaseService/SetVelocity",
            "/viam.component.base.v1.BaseService/Spin",
            "/viam.component.button.v1.ButtonService/Push",
            "/viam.component.gantry.v1.GantryService/MoveToPosition",
            "/viam.component.gripper.v1.GripperService/GoToInputs",
            "/viam.component.gripper.v1.GripperService/Grab",
            "/viam.component.gripper.v1.GripperService/Open",
            // axle's one addition: remote control's events own motion.
            "/viam.component.inputcontroller.v1.InputControllerService/TriggerEvent",
            "/viam.component.motor.v1.MotorService/GoFor",
            "/viam.component.motor.v1.MotorService/GoTo",
            "/viam.component.motor.v1.MotorService/SetPower",
            "/viam.component.motor.v1.MotorService/SetRPM",
            "/viam.component.servo.v1.ServoService/Move",
            "/viam.component.switch.v1.SwitchService/SetPosition",
            // Upstream's test API marks its streamed echo too.
            "/viam.component.testecho.v1.TestEchoService/EchoMultiple",
        ];
        assert_eq!(SAFETY_MONITORED_METHODS, expected);
        assert!(is_safety_monitored(
            "/viam.component.motor.v1.MotorService/GoFor"
        ));
        assert!(!is_safety_monitored(
            "/viam.component.motor.v1.MotorService/Stop"
        ));
    }
}
