"""An unmodified viam-sdk module serving APIs axle has no built-in service
for: a camera, a sensor, a vision service, an arm and a gripper
(EasyResource models).

- `acme:test:pycamera`: GetImages answers one image of `image_bytes` bytes
  (attribute; default 1000) whose byte i is i % 251, so a test can check it
  arrived intact.
- `acme:test:pysensor`: Readings `{"temperature": 21.5, "calls": n}`.
- `acme:test:pyvision`: one detection of a "widget" on any camera.

- `acme:test:pyarm`: MoveToJointPositions starts a 60 s motion; Stop ends it.
- `acme:test:pygripper`: Grab starts a 60 s squeeze; Stop ends it.

Each answers DoCommand with what it was sent, under "echo"; the arm and the
gripper also with how many times they were stopped, under "stops".
"""

import asyncio

from viam.components.arm import Arm, JointPositions, KinematicsFileFormat
from viam.components.camera import Camera
from viam.components.gripper import Gripper
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
    data = b""

    @classmethod
    def new(cls, config, dependencies):
        self = super().new(config, dependencies)
        self.reconfigure(config, dependencies)
        return self

    def reconfigure(self, config, dependencies):
        field = config.attributes.fields.get("image_bytes")
        self.size = int(field.number_value) if field else 1000
        # Made once: the image's cost is not what tests and benches measure.
        self.data = (bytes(range(251)) * (self.size // 251 + 1))[: self.size]

    async def get_images(self, *, filter_source_names=None, extra=None, timeout=None, **kwargs):
        return [NamedImage("color", self.data, CameraMimeType.JPEG)], ResponseMetadata()

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


class Moves(Echo):
    """A motion that runs until Stop (or 60 s)."""

    moving_until = 0.0
    stops = 0

    def start(self):
        self.moving_until = asyncio.get_running_loop().time() + 60

    async def stop(self, *, extra=None, timeout=None, **kwargs):
        self.moving_until = 0.0
        self.stops += 1

    async def is_moving(self):
        return asyncio.get_running_loop().time() < self.moving_until

    async def do_command(self, command, *, timeout=None, **kwargs):
        return {"echo": command, "stops": self.stops}


class PyArm(Moves, Arm, EasyResource):
    MODEL = "acme:test:pyarm"
    joints = [0.0] * 6

    async def get_end_position(self, *, extra=None, timeout=None, **kwargs):
        from viam.proto.common import Pose
        return Pose(x=1, y=2, z=3)

    async def move_to_position(self, pose, *, extra=None, timeout=None, **kwargs):
        self.start()

    async def move_to_joint_positions(self, positions, *, extra=None, timeout=None, **kwargs):
        self.joints = list(positions.values)
        self.start()

    async def move_through_joint_positions(self, positions, *, options=None, extra=None, timeout=None, **kwargs):
        self.start()

    async def get_joint_positions(self, *, extra=None, timeout=None, **kwargs):
        return JointPositions(values=self.joints)

    async def get_kinematics(self, *, extra=None, timeout=None, **kwargs):
        return KinematicsFileFormat.KINEMATICS_FILE_FORMAT_SVA, b"{}"

    async def get_3d_models(self, *, extra=None, timeout=None, **kwargs):
        return {}

    async def move_through_joint_positions_streamed(self, *args, **kwargs):
        raise NotImplementedError("move_through_joint_positions_streamed")

    async def set_manual_mode(self, *args, **kwargs):
        raise NotImplementedError("set_manual_mode")

    async def get_manual_mode(self, *, extra=None, timeout=None, **kwargs):
        return False

    async def get_properties(self, *, extra=None, timeout=None, **kwargs):
        return Arm.Properties()


class PyGripper(Moves, Gripper, EasyResource):
    MODEL = "acme:test:pygripper"

    async def open(self, *, extra=None, timeout=None, **kwargs):
        self.start()

    async def grab(self, *, extra=None, timeout=None, **kwargs):
        self.start()
        return True

    async def is_holding_something(self, *, extra=None, **kwargs):
        return Gripper.HoldingStatus(is_holding_something=False)

    async def get_current_inputs(self, *, extra=None, timeout=None, **kwargs):
        return [0.0]

    async def go_to_inputs(self, inputs, *, extra=None, timeout=None, **kwargs):
        self.start()

    async def get_kinematics(self, *, extra=None, timeout=None, **kwargs):
        return KinematicsFileFormat.KINEMATICS_FILE_FORMAT_SVA, b"{}"


if __name__ == "__main__":
    asyncio.run(Module.run_from_registry())
