//! A simulated arm: a waist that turns about z, then a shoulder and an
//! elbow that pitch, with two links. Joints move at a set speed; the end
//! position follows from the joints (forward kinematics), and a pose to
//! reach is turned into joints in closed form. Three joints reach points,
//! not orientations: the end effector points along the forearm, and a
//! requested orientation is not used.

use super::travel::Travel;
use crate::host::{Built, kind};
use crate::{Arm, AttributeError, Attributes, Document, Motion, Pose, Resource, ResourceError};
use axle_wire::settings::keys::Key;
use serde_json::json;

const JOINTS: [&str; 3] = ["waist", "shoulder", "elbow"];
/// Each joint's limits, in degrees.
const LIMITS: [(f64, f64); 3] = [(-180.0, 180.0), (-90.0, 180.0), (-170.0, 170.0)];

/// The fake arm.
#[derive(Debug)]
pub struct FakeArm {
    name: String,
    base_mm: f64,
    links_mm: [f64; 2],
    degs_per_sec: f64,
    travel: Travel,
}

impl FakeArm {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value(
            "link_lengths_mm",
            "lengths of the links, base to tip (default [400, 300])",
        ),
        Key::value("base_height_mm", "height of the first joint (default 200)"),
        Key::value("degs_per_sec", "joint speed (default 90)"),
        Key::ignored("arm-model", "upstream's"),
        Key::ignored("model-path", "upstream's"),
    ];

    /// Attributes: `link_lengths_mm` (default `[400, 300]`: upper arm and
    /// forearm), `base_height_mm` (default 200), `degs_per_sec` (default 90).
    pub fn build(name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let links = attrs.positive_numbers("link_lengths_mm", &[400.0, 300.0])?;
        let [upper, fore] = links[..] else {
            return Err(AttributeError {
                field: "link_lengths_mm".into(),
                problem: format!(
                    "expected 2 lengths (upper arm, forearm), got {}",
                    links.len()
                ),
            });
        };
        let base = attrs.positive_number("base_height_mm", 200.0)?;
        let speed = attrs.positive_number("degs_per_sec", 90.0)?;
        Ok(Built::new::<kind::Arm>(Box::new(Self::new(
            name,
            base,
            [upper, fore],
            speed,
        ))))
    }

    /// An arm at rest with every joint at 0: stretched out along x.
    pub fn new(name: &str, base_mm: f64, links_mm: [f64; 2], degs_per_sec: f64) -> Self {
        Self {
            name: name.into(),
            base_mm,
            links_mm,
            degs_per_sec,
            travel: Travel::new(vec![0.0; 3]),
        }
    }

    /// Where the joints `q` (degrees) put the end effector.
    fn forward(&self, q: &[f64]) -> Pose {
        let [waist, shoulder, elbow] = [q[0], q[1], q[2]].map(f64::to_radians);
        let [l1, l2] = self.links_mm;
        let reach = l1 * shoulder.cos() + l2 * (shoulder + elbow).cos();
        let height = l1 * shoulder.sin() + l2 * (shoulder + elbow).sin();
        let pitch = shoulder + elbow;
        Pose {
            x: reach * waist.cos(),
            y: reach * waist.sin(),
            z: self.base_mm + height,
            o_x: pitch.cos() * waist.cos(),
            o_y: pitch.cos() * waist.sin(),
            o_z: pitch.sin(),
            theta: 0.0,
        }
    }

    /// The joints that put the end effector at `p`'s point, elbow up.
    fn inverse(&self, p: &Pose) -> Result<Vec<f64>, ResourceError> {
        let [l1, l2] = self.links_mm;
        let reach = p.x.hypot(p.y);
        let height = p.z - self.base_mm;
        let cos_elbow = (reach * reach + height * height - l1 * l1 - l2 * l2) / (2.0 * l1 * l2);
        if !(-1.0..=1.0).contains(&cos_elbow) {
            return Err(ResourceError::invalid(format!(
                "to ({:.0}, {:.0}, {:.0}) mm is out of the arm's reach: it reaches {:.0} to {:.0} mm from its shoulder at (0, 0, {:.0})",
                p.x,
                p.y,
                p.z,
                (l1 - l2).abs(),
                l1 + l2,
                self.base_mm
            )));
        }
        let elbow = -cos_elbow.acos();
        let shoulder = height.atan2(reach) - (l2 * elbow.sin()).atan2(l1 + l2 * elbow.cos());
        let waist = if reach < 1e-9 {
            self.travel.now()[0].to_radians()
        } else {
            p.y.atan2(p.x)
        };
        let q = vec![
            waist.to_degrees(),
            shoulder.to_degrees(),
            elbow.to_degrees(),
        ];
        check_limits("to", &q)?;
        Ok(q)
    }

    fn go(&mut self, path: Vec<Vec<f64>>) -> Motion {
        self.travel.go(path, vec![self.degs_per_sec; 3])
    }
}

/// INVALID_ARGUMENT naming `what` if `q` is not 3 joints within limits.
fn check_limits(what: &str, q: &[f64]) -> Result<(), ResourceError> {
    if q.len() != JOINTS.len() {
        return Err(ResourceError::invalid(format!(
            "{what} must hold 3 joint positions ({}), got {}",
            JOINTS.join(", "),
            q.len()
        )));
    }
    for (i, (v, (lo, hi))) in q.iter().zip(LIMITS).enumerate() {
        if !(lo..=hi).contains(v) {
            return Err(ResourceError::invalid(format!(
                "{what}[{i}] = {v:.1} is outside joint {}'s limits ({lo} to {hi} degrees)",
                JOINTS[i]
            )));
        }
    }
    Ok(())
}

impl Resource for FakeArm {
    fn status(&mut self) -> Result<Document, ResourceError> {
        let q = self.travel.now();
        let p = self.forward(&q);
        Ok(super::doc(json!({
            "joint_positions": q,
            "end_position": {"x": p.x, "y": p.y, "z": p.z},
            "is_moving": self.travel.is_moving(),
        })))
    }
}

super::travel::actuator!(FakeArm);

impl Arm for FakeArm {
    fn end_position(&mut self) -> Result<Pose, ResourceError> {
        Ok(self.forward(&self.travel.now()))
    }

    fn move_to_position(&mut self, pose: Pose) -> Result<Motion, ResourceError> {
        let q = self.inverse(&pose)?;
        Ok(self.go(vec![q]))
    }

    fn joint_positions(&mut self) -> Result<Vec<f64>, ResourceError> {
        Ok(self.travel.now())
    }

    fn move_to_joint_positions(&mut self, positions: Vec<f64>) -> Result<Motion, ResourceError> {
        check_limits("positions.values", &positions)?;
        Ok(self.go(vec![positions]))
    }

    fn move_through_joint_positions(
        &mut self,
        positions: Vec<Vec<f64>>,
    ) -> Result<Motion, ResourceError> {
        for (i, q) in positions.iter().enumerate() {
            check_limits(&format!("positions[{i}].values"), q)?;
        }
        Ok(self.go(positions))
    }

    fn kinematics(&mut self) -> Result<Vec<u8>, ResourceError> {
        let [l1, l2] = self.links_mm;
        let joint = |id: &str, parent: &str, axis: (u8, u8, u8), (min, max): (f64, f64)| {
            json!({"id": id, "type": "revolute", "parent": parent,
                   "axis": {"x": axis.0, "y": axis.1, "z": axis.2}, "min": min, "max": max})
        };
        let link = |id: &str, parent: &str, x: f64, z: f64| json!({"id": id, "parent": parent, "translation": {"x": x, "y": 0, "z": z}});
        let model = json!({
            "name": self.name,
            "kinematic_param_type": "SVA",
            "links": [
                link("base_link", "world", 0.0, self.base_mm),
                link("upper_arm", "shoulder", l1, 0.0),
                link("forearm", "elbow", l2, 0.0),
            ],
            "joints": [
                joint("waist", "base_link", (0, 0, 1), LIMITS[0]),
                joint("shoulder", "waist", (0, 1, 0), LIMITS[1]),
                joint("elbow", "upper_arm", (0, 1, 0), LIMITS[2]),
            ],
        });
        Ok(model.to_string().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_kinematics_reaches_the_point_forward_kinematics_gives() {
        let arm = FakeArm::new("a", 200.0, [400.0, 300.0], 90.0);
        for q in [
            [30.0, 45.0, -60.0],
            [-120.0, 10.0, -20.0],
            [0.0, 90.0, -90.0],
        ] {
            let p = arm.forward(&q);
            let back = arm.inverse(&p).unwrap();
            let again = arm.forward(&back);
            assert!(
                (p.x - again.x).abs() < 1e-6
                    && (p.y - again.y).abs() < 1e-6
                    && (p.z - again.z).abs() < 1e-6,
                "{q:?} -> {p:?} -> {back:?} -> {again:?}"
            );
        }
        let far = Pose {
            x: 2000.0,
            ..Default::default()
        };
        assert!(
            arm.inverse(&far)
                .unwrap_err()
                .to_string()
                .contains("out of the arm's reach")
        );
    }
}
