//! How each control mode turns controller events into a throttle: upstream's
//! mapping (`viam-remote-control-facts.md`), restated. Pure state, no I/O.

use axle_sdk_module::{Event, Vector3};
use std::collections::HashMap;

/// The five control modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A hat (d-pad): Hat0Y drives, Hat0X turns.
    Arrow,
    /// Triggers ramp the speed, the stick's X turns.
    TriggerSpeed,
    /// North/South drive, East/West turn.
    Button,
    /// One stick: Y drives, X turns.
    Joystick,
    /// Two sticks: yaw and climb on the left, strafe and drive on the right.
    Drone,
}

impl Mode {
    /// Every mode, by its config name.
    pub const NAMES: [(&'static str, Mode); 5] = [
        ("arrowControl", Mode::Arrow),
        ("triggerSpeedControl", Mode::TriggerSpeed),
        ("buttonControl", Mode::Button),
        ("joystickControl", Mode::Joystick),
        ("droneControl", Mode::Drone),
    ];

    /// The mode of a config name.
    pub fn parse(name: &str) -> Option<Mode> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
    }

    /// Its config name.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("", |(n, _)| n)
    }

    /// The controls this mode listens to.
    pub fn controls(self) -> &'static [&'static str] {
        match self {
            Mode::Arrow => &["AbsoluteHat0X", "AbsoluteHat0Y"],
            Mode::TriggerSpeed => &["AbsoluteX", "AbsoluteZ", "AbsoluteRZ"],
            Mode::Button => &["ButtonNorth", "ButtonSouth", "ButtonEast", "ButtonWest"],
            Mode::Joystick => &["AbsoluteX", "AbsoluteY"],
            Mode::Drone => &["AbsoluteX", "AbsoluteY", "AbsoluteRX", "AbsoluteRY"],
        }
    }
}

/// Linear and angular power, each component in [-1, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Throttle {
    /// x strafes, y drives, z climbs.
    pub linear: Vector3,
    /// z turns (positive: left).
    pub angular: Vector3,
}

impl Throttle {
    /// Whether it moves nothing.
    pub fn is_zero(&self) -> bool {
        self.linear.is_zero() && self.angular.is_zero()
    }

    /// Whether every component is within `tolerance` of `other`'s: such a
    /// change is not worth a command.
    pub fn similar(&self, other: &Throttle, tolerance: f64) -> bool {
        let (a, b) = (self.components(), other.components());
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
    }

    fn components(&self) -> [f64; 6] {
        let (l, a) = (self.linear, self.angular);
        [l.x, l.y, l.z, a.x, a.y, a.z]
    }
}

/// An axis position as a throttle: a dead zone of 0.27, then the magnitude
/// rounded up to the next tenth.
pub fn scale(value: f64) -> f64 {
    if value.abs() <= 0.27 {
        0.0
    } else {
        ((value.abs() * 10.0).ceil() / 10.0)
            .min(1.0)
            .copysign(value)
    }
}

/// A mode and the state its events build up.
#[derive(Debug, Clone)]
pub struct Mapper {
    mode: Mode,
    throttle: Throttle,
    /// arrowControl: the hat's last positions, negated.
    arrows: HashMap<String, f64>,
    /// buttonControl: which buttons are down.
    pressed: HashMap<String, bool>,
}

impl Mapper {
    /// A mapper at rest.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            throttle: Throttle::default(),
            arrows: HashMap::new(),
            pressed: HashMap::new(),
        }
    }

    /// Forgets every held input: after a stop, the next event starts from rest.
    pub fn reset(&mut self) {
        *self = Self::new(self.mode);
    }

    /// The throttle after `event`, or `None` if this mode ignores it.
    pub fn apply(&mut self, e: &Event) -> Option<Throttle> {
        if !self.mode.controls().contains(&e.control.as_str()) {
            return None;
        }
        let t = &mut self.throttle;
        let v = e.value;
        match (self.mode, e.event.as_str(), e.control.as_str()) {
            (Mode::Joystick, "PositionChangeAbs", "AbsoluteY") => t.linear.y = scale(-v),
            (Mode::Joystick, "PositionChangeAbs", "AbsoluteX") => t.angular.z = scale(-v),
            (Mode::Drone, "PositionChangeAbs", "AbsoluteX") => t.angular.z = scale(-v),
            (Mode::Drone, "PositionChangeAbs", "AbsoluteY") => t.linear.z = scale(-v),
            (Mode::Drone, "PositionChangeAbs", "AbsoluteRX") => t.linear.x = scale(v),
            (Mode::Drone, "PositionChangeAbs", "AbsoluteRY") => t.linear.y = scale(-v),
            (Mode::TriggerSpeed, "PositionChangeAbs", "AbsoluteZ") => {
                t.linear.y = (t.linear.y - 0.05).max(-1.0)
            }
            (Mode::TriggerSpeed, "PositionChangeAbs", "AbsoluteRZ") => {
                t.linear.y = (t.linear.y + 0.05).min(1.0)
            }
            (Mode::TriggerSpeed, "PositionChangeAbs", "AbsoluteX") => {
                t.angular.z = v.clamp(-1.0, 1.0)
            }
            (Mode::Arrow, "PositionChangeAbs", control) => {
                self.arrows.insert(control.into(), -v);
                t.linear.y = self.arrows.get("AbsoluteHat0Y").copied().unwrap_or(0.0);
                t.angular.z = self.arrows.get("AbsoluteHat0X").copied().unwrap_or(0.0);
            }
            (Mode::Button, "ButtonPress" | "ButtonRelease" | "ButtonChange", control) => {
                let down = match e.event.as_str() {
                    "ButtonPress" => true,
                    "ButtonRelease" => false,
                    _ => v != 0.0,
                };
                self.pressed.insert(control.into(), down);
                let held = |b: &str| self.pressed.get(b).copied().unwrap_or(false);
                t.linear.y = axis(held("ButtonNorth"), held("ButtonSouth"));
                t.angular.z = axis(held("ButtonWest"), held("ButtonEast"));
            }
            _ => return None,
        }
        Some(self.throttle)
    }
}

/// +1 for `plus` alone, -1 for `minus` alone, else 0.
fn axis(plus: bool, minus: bool) -> f64 {
    match (plus, minus) {
        (true, false) => 1.0,
        (false, true) => -1.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn ev(control: &str, event: &str, value: f64) -> Event {
        Event {
            time: SystemTime::now(),
            event: event.into(),
            control: control.into(),
            value,
        }
    }

    fn abs(control: &str, value: f64) -> Event {
        ev(control, "PositionChangeAbs", value)
    }

    #[test]
    fn scaling_has_a_dead_zone_and_rounds_up_to_tenths() {
        assert_eq!(scale(0.27), 0.0);
        assert_eq!(scale(-0.2), 0.0);
        assert_eq!(scale(0.31), 0.4);
        assert_eq!(scale(-0.55), -0.6);
        assert_eq!(scale(1.0), 1.0);
    }

    #[test]
    fn joystick_up_drives_forward_and_left_turns_left() {
        let mut m = Mapper::new(Mode::Joystick);
        let t = m.apply(&abs("AbsoluteY", -0.75)).unwrap();
        assert_eq!(t.linear.y, 0.8);
        let t = m.apply(&abs("AbsoluteX", -0.5)).unwrap();
        assert_eq!((t.linear.y, t.angular.z), (0.8, 0.5));
        assert_eq!(m.apply(&abs("AbsoluteHat0X", 1.0)), None);
    }

    #[test]
    fn drone_maps_both_sticks() {
        let mut m = Mapper::new(Mode::Drone);
        m.apply(&abs("AbsoluteX", 0.5));
        m.apply(&abs("AbsoluteY", -1.0));
        m.apply(&abs("AbsoluteRX", 0.3));
        let t = m.apply(&abs("AbsoluteRY", 0.9)).unwrap();
        assert_eq!(t.angular.z, -0.5);
        assert_eq!((t.linear.x, t.linear.y, t.linear.z), (0.3, -0.9, 1.0));
    }

    #[test]
    fn triggers_ramp_by_a_twentieth() {
        let mut m = Mapper::new(Mode::TriggerSpeed);
        for _ in 0..3 {
            m.apply(&abs("AbsoluteRZ", 1.0));
        }
        let t = m.apply(&abs("AbsoluteZ", 1.0)).unwrap();
        assert!((t.linear.y - 0.1).abs() < 1e-9);
        assert_eq!(m.apply(&abs("AbsoluteX", 0.12)).unwrap().angular.z, 0.12);
    }

    #[test]
    fn arrows_and_buttons() {
        let mut m = Mapper::new(Mode::Arrow);
        let t = m.apply(&abs("AbsoluteHat0Y", -1.0)).unwrap();
        assert_eq!((t.linear.y, t.angular.z), (1.0, 0.0));
        assert_eq!(m.apply(&abs("AbsoluteHat0X", 1.0)).unwrap().angular.z, -1.0);
        let mut b = Mapper::new(Mode::Button);
        b.apply(&ev("ButtonNorth", "ButtonPress", 1.0));
        let t = b.apply(&ev("ButtonEast", "ButtonPress", 1.0)).unwrap();
        assert_eq!((t.linear.y, t.angular.z), (1.0, -1.0));
        b.apply(&ev("ButtonSouth", "ButtonPress", 1.0));
        let t = b.apply(&ev("ButtonEast", "ButtonRelease", 0.0)).unwrap();
        assert_eq!(
            (t.linear.y, t.angular.z),
            (0.0, 0.0),
            "both or neither is 0"
        );
    }
}
