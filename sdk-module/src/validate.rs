//! Checks on numbers that arrive from outside, shared by every entry point
//! (gRPC, modules, DoCommand) so drivers only ever see sane values.

use crate::{ResourceError, Vector3};

/// The largest magnitude any argument may have: far beyond any real rpm,
/// revolution count, distance in mm or angle in degrees, and small enough
/// that products and quotients of two of them stay finite.
pub const LARGEST: f64 = 1e9;

/// A finite number within ±[`LARGEST`], or INVALID_ARGUMENT naming the
/// argument.
pub fn finite(what: &str, value: f64) -> Result<f64, ResourceError> {
    if !value.is_finite() {
        Err(ResourceError::invalid(format!(
            "{what} must be a finite number, got {value}"
        )))
    } else if value.abs() > LARGEST {
        Err(ResourceError::invalid(format!(
            "{what} is out of range: {value:e} (the limit is ±{LARGEST:e})"
        )))
    } else {
        Ok(value)
    }
}

/// A power fraction in [-1, 1].
pub fn power(what: &str, value: f64) -> Result<f64, ResourceError> {
    let value = finite(what, value)?;
    if (-1.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(ResourceError::invalid(format!(
            "{what} must be between -1 and 1, got {value}"
        )))
    }
}

/// A finite, non-zero speed.
pub fn nonzero_speed(what: &str, value: f64) -> Result<f64, ResourceError> {
    let value = finite(what, value)?;
    if value.abs() < 1e-9 {
        Err(ResourceError::invalid(format!(
            "{what} must not be 0: cannot move at a speed of 0"
        )))
    } else {
        Ok(value)
    }
}

/// A vector whose components are powers in [-1, 1].
pub fn power_vector(what: &str, v: Vector3) -> Result<Vector3, ResourceError> {
    each_component(what, v, power)
}

/// A vector of finite components.
pub fn finite_vector(what: &str, v: Vector3) -> Result<Vector3, ResourceError> {
    each_component(what, v, finite)
}

/// A list of finite numbers; the error names the element, e.g.
/// `positions[2]`.
pub fn finite_all(what: &str, values: Vec<f64>) -> Result<Vec<f64>, ResourceError> {
    for (i, v) in values.iter().enumerate() {
        finite(&format!("{what}[{i}]"), *v)?;
    }
    Ok(values)
}

fn each_component(
    what: &str,
    v: Vector3,
    check: fn(&str, f64) -> Result<f64, ResourceError>,
) -> Result<Vector3, ResourceError> {
    Ok(Vector3 {
        x: check(&format!("{what}.x"), v.x)?,
        y: check(&format!("{what}.y"), v.y)?,
        z: check(&format!("{what}.z"), v.z)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_a_driver_must_never_see() {
        assert!(power("power_pct", 1.5).is_err());
        assert!(power("power_pct", f64::NAN).is_err());
        assert!(power("power_pct", -1.0).is_ok());
        assert!(finite("rpm", f64::INFINITY).is_err());
        assert!(finite("rpm", 1e308).is_err());
        assert!(finite("rpm", -1e10).is_err());
        assert_eq!(finite("rpm", -1e9).ok(), Some(-1e9));
        assert!(nonzero_speed("rpm", 0.0).is_err());
        let e = power_vector(
            "linear",
            Vector3 {
                x: 0.0,
                y: 2.0,
                z: 0.0,
            },
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "linear.y must be between -1 and 1, got 2");
    }
}
