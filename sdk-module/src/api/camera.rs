use crate::{Resource, ResourceError};

/// One encoded image.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Which of the camera's sources took it.
    pub source_name: String,
    /// e.g. `image/jpeg`.
    pub mime_type: String,
    /// The encoded bytes.
    pub bytes: Vec<u8>,
}

/// What GetProperties reports for a camera.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CameraProperties {
    /// Image width and height in pixels.
    pub width_px: u32,
    /// Height.
    pub height_px: u32,
    /// Focal lengths and centre, in pixels.
    pub focal_px: (f64, f64),
    /// Optical centre.
    pub center_px: (f64, f64),
    /// The MIME types it can encode.
    pub mime_types: Vec<String>,
    /// Frames per second.
    pub frame_rate: Option<f32>,
}

/// The `rdk:component:camera` API.
pub trait Camera: Resource {
    /// One image from each source named in `sources` (every source if empty).
    fn images(&mut self, sources: &[String]) -> Result<Vec<Image>, ResourceError>;
    /// The camera's properties.
    fn properties(&mut self) -> Result<CameraProperties, ResourceError>;
}
