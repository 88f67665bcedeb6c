//! `rdk:service:base_remote_control`: an input controller drives a base, and
//! nothing moves without a live owner.
//!
//! - [`modes`]: how each control mode turns events into a throttle.
//! - [`config`]: the service's attributes, checked.
//! - [`actor`]: the `RemoteControl` actor, one per service. It takes the
//!   controller's events in the order they were produced, sends the base
//!   what they add up to, and stops the base when the motion's owner goes:
//!   "what happens when a remote control stops the base" is
//!   `RemoteControl::safety_stop`.

pub mod actor;
pub mod base;
pub mod config;
pub mod modes;
pub mod service;

pub use actor::RemoteControl;
pub use config::RemoteControlConfig;
pub use service::RemoteControlService;
