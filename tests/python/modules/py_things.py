"""An unmodified viam-sdk module serving APIs axle has no built-in service
for: a camera, a sensor and a vision service (EasyResource models).

- `acme:test:pycamera`: GetImages answers one image of `image_bytes` bytes
  (attribute; default 1000) whose byte i is i % 251, so a test can check it
  arrived intact.
- `acme:test:pysensor`: Readings `{"temperature": 21.5, "calls": n}`.
- `acme:test:pyvision`: one detection of a "widget" on any camera.

Each answers DoCommand with what it was sent, under "echo".
"""

import asyncio

from viam.components.camera import Camera
from viam.components.sensor import Sensor
from viam.media.video import CameraMimeType, NamedImage
from viam.module.module import Module
from viam.proto.common import ResponseMetadata
from viam.proto.service.vision import Detection
from viam.resource.easy_resource import EasyResource
from viam.services.vision import Vision


class Echo:
    async def do_command(self, command, *, timeout=None, **kwargs):
        return {"echo": command}


class PyCamera(Echo, Camera, EasyResource):
    MODEL = "acme:test:pycamera"
    size = 1000

    @classmethod
    def new(cls, config, dependencies):
        self = super().new(config, dependencies)
        self.reconfigure(config, dependencies)
        return self

    def reconfigure(self, config, dependencies):
        field = config.attributes.fields.get("image_bytes")
        self.size = int(field.number_value) if field else 1000

    async def get_images(self, *, filter_source_names=None, extra=None, timeout=None, **kwargs):
        data = bytes(i % 251 for i in range(self.size))
        return [NamedImage("color", data, CameraMimeType.JPEG)], ResponseMetadata()

    async def get_point_cloud(self, *, extra=None, timeout=None, **kwargs):
        return b"", "pointcloud/pcd"

    async def get_properties(self, *, timeout=None, **kwargs):
        return Camera.Properties(supports_pcd=False)


class PySensor(Echo, Sensor, EasyResource):
    MODEL = "acme:test:pysensor"
    calls = 0

    async def get_readings(self, *, extra=None, timeout=None, **kwargs):
        self.calls += 1
        return {"temperature": 21.5, "calls": self.calls}


class PyVision(Echo, Vision, EasyResource):
    MODEL = "acme:test:pyvision"

    async def get_detections_from_camera(self, camera_name, *, extra=None, timeout=None):
        return [Detection(x_min=1, y_min=2, x_max=3, y_max=4, confidence=0.9, class_name="widget")]

    async def get_detections(self, image, *, extra=None, timeout=None):
        raise NotImplementedError("get_detections")

    async def get_classifications_from_camera(self, camera_name, count, *, extra=None, timeout=None):
        raise NotImplementedError("get_classifications_from_camera")

    async def get_classifications(self, image, count, *, extra=None, timeout=None):
        raise NotImplementedError("get_classifications")

    async def get_detections_3d(self, camera_name, *, extra=None, timeout=None):
        raise NotImplementedError("get_detections_3d")

    async def get_object_point_clouds(self, camera_name, *, extra=None, timeout=None):
        raise NotImplementedError("get_object_point_clouds")

    async def capture_all_from_camera(self, camera_name, return_image=False, return_classifications=False,
                                      return_detections=False, return_object_point_clouds=False, *,
                                      extra=None, timeout=None):
        raise NotImplementedError("capture_all_from_camera")

    async def get_properties(self, *, extra=None, timeout=None):
        return Vision.Properties(detections_supported=True)


if __name__ == "__main__":
    asyncio.run(Module.run_from_registry())
