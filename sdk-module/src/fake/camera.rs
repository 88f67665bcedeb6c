//! A simulated camera: colour bars that scroll with time, encoded as JPEG
//! or PNG, so a client sees frames change as a live camera's would.

use super::doc;
use crate::host::{Built, kind};
use crate::{
    AttributeError, Attributes, Camera, CameraProperties, Document, Image, Resource, ResourceError,
};
use axle_wire::settings::keys::Key;
use serde_json::json;
use std::time::Instant;

/// The one source a fake camera has.
const SOURCE: &str = "color";
const JPEG: &str = "image/jpeg";
const PNG: &str = "image/png";
/// The bars, as RGB.
const BARS: [[u8; 3]; 8] = [
    [255, 255, 255],
    [255, 255, 0],
    [0, 255, 255],
    [0, 255, 0],
    [255, 0, 255],
    [255, 0, 0],
    [0, 0, 255],
    [0, 0, 0],
];

/// The fake camera.
#[derive(Debug)]
pub struct FakeCamera {
    width: u16,
    height: u16,
    mime_type: &'static str,
    frame_rate: f64,
    start: Instant,
    frames: u64,
}

impl FakeCamera {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value("width_px", "frame width, 8 to 4096 (default 640)"),
        Key::value("height_px", "frame height, 8 to 4096 (default 480)"),
        Key::value("mime_type", "\"image/jpeg\" (default) or \"image/png\""),
        Key::value("frame_rate", "how fast the pattern moves (default 30)"),
    ];

    /// Attributes: `width_px` (default 640), `height_px` (default 480),
    /// `mime_type` (`image/jpeg`, the default, or `image/png`),
    /// `frame_rate` (default 30: how fast the pattern moves).
    pub fn build(_name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let size = |field: &str, default: f64| -> Result<u16, AttributeError> {
            let v = attrs.positive_number(field, default)?;
            if v.fract() != 0.0 || !(8.0..=4096.0).contains(&v) {
                return Err(AttributeError {
                    field: field.into(),
                    problem: format!("expected a whole number of pixels from 8 to 4096, got {v}"),
                });
            }
            Ok(v as u16)
        };
        let mime_type = match attrs.string("mime_type", JPEG)?.as_str() {
            JPEG => JPEG,
            PNG => PNG,
            other => {
                return Err(AttributeError {
                    field: "mime_type".into(),
                    problem: format!("expected {JPEG:?} or {PNG:?}, got {other:?}"),
                });
            }
        };
        Ok(Built::new::<kind::Camera>(Box::new(Self {
            width: size("width_px", 640.0)?,
            height: size("height_px", 480.0)?,
            mime_type,
            frame_rate: attrs.positive_number("frame_rate", 30.0)?,
            start: Instant::now(),
            frames: 0,
        })))
    }

    /// The frame now, as RGB bytes: bars scrolled one pixel per frame.
    fn pattern(&self) -> Vec<u8> {
        let (w, h) = (self.width as usize, self.height as usize);
        let shift = (self.start.elapsed().as_secs_f64() * self.frame_rate) as usize;
        let mut row = Vec::with_capacity(w * 3);
        for x in 0..w {
            row.extend_from_slice(&BARS[((x + shift) % w) * BARS.len() / w]);
        }
        row.repeat(h)
    }

    fn encode(&self, rgb: &[u8]) -> Result<Vec<u8>, ResourceError> {
        let failed = |e: &dyn std::fmt::Display| {
            ResourceError::Internal(format!(
                "encoding the test pattern as {} failed: {e}",
                self.mime_type
            ))
        };
        let mut out = Vec::new();
        if self.mime_type == PNG {
            let mut encoder = png::Encoder::new(&mut out, self.width.into(), self.height.into());
            encoder.set_color(png::ColorType::Rgb);
            let mut writer = encoder.write_header().map_err(|e| failed(&e))?;
            writer.write_image_data(rgb).map_err(|e| failed(&e))?;
            writer.finish().map_err(|e| failed(&e))?;
        } else {
            jpeg_encoder::Encoder::new(&mut out, 85)
                .encode(rgb, self.width, self.height, jpeg_encoder::ColorType::Rgb)
                .map_err(|e| failed(&e))?;
        }
        Ok(out)
    }
}

impl Resource for FakeCamera {
    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(doc(json!({"frames": self.frames})))
    }
}

impl Camera for FakeCamera {
    fn images(&mut self, sources: &[String]) -> Result<Vec<Image>, ResourceError> {
        if let Some(bad) = sources.iter().find(|s| *s != SOURCE) {
            return Err(ResourceError::invalid(format!(
                "filter_source_names: this camera has no source {bad:?}; its sources are [{SOURCE:?}]"
            )));
        }
        let bytes = self.encode(&self.pattern())?;
        self.frames += 1;
        Ok(vec![Image {
            source_name: SOURCE.into(),
            mime_type: self.mime_type.into(),
            bytes,
        }])
    }

    fn properties(&mut self) -> Result<CameraProperties, ResourceError> {
        let (w, h) = (self.width as f64, self.height as f64);
        Ok(CameraProperties {
            width_px: self.width.into(),
            height_px: self.height.into(),
            focal_px: (w, w),
            center_px: (w / 2.0, h / 2.0),
            mime_types: vec![JPEG.into(), PNG.into()],
            frame_rate: Some(self.frame_rate as f32),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_real_images_that_move() {
        let attrs = Attributes::new(doc(
            json!({"width_px": 64, "height_px": 48, "frame_rate": 1000}),
        ));
        let mut cam = FakeCamera::build("c", &attrs)
            .unwrap()
            .into_driver::<kind::Camera>()
            .unwrap();
        let first = cam.images(&[]).unwrap().remove(0);
        assert_eq!(&first.bytes[..2], &[0xFF, 0xD8], "a JPEG starts with SOI");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let second = cam.images(&[]).unwrap().remove(0);
        assert_ne!(first.bytes, second.bytes, "the pattern scrolls");
        assert!(
            cam.images(&["depth".into()])
                .unwrap_err()
                .to_string()
                .contains("filter_source_names")
        );
        let png = Attributes::new(doc(json!({"mime_type": "image/png"})));
        let mut cam = FakeCamera::build("c", &png)
            .unwrap()
            .into_driver::<kind::Camera>()
            .unwrap();
        assert_eq!(&cam.images(&[]).unwrap()[0].bytes[1..4], b"PNG");
    }
}
