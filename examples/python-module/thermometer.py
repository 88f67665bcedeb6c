"""A module written with the unmodified Python viam-sdk (0.85.1): a sensor
model, `acme:demo:thermometer`, that reads this computer's CPU temperature
(or, where there is none, a simulated one) and adds `offset_c`.

axle starts it as `run.sh <socket>`; see robot.json beside it and the
README's "Modules" section.
"""

import asyncio
import math
import time
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from typing_extensions import Self
from viam.components.sensor import Sensor
from viam.module.module import Module
from viam.proto.app.robot import ComponentConfig
from viam.proto.common import ResourceName
from viam.resource.base import ResourceBase
from viam.resource.easy_resource import EasyResource
from viam.utils import SensorReading, struct_to_dict

ZONE = Path("/sys/class/thermal/thermal_zone0/temp")


class Thermometer(Sensor, EasyResource):
    MODEL = "acme:demo:thermometer"

    offset_c: float = 0.0

    @classmethod
    def new(cls, config: ComponentConfig, dependencies: Mapping[ResourceName, ResourceBase]) -> Self:
        # viam-sdk 0.85.1's EasyResource.new does not call reconfigure: a
        # model that reads its attributes there must call it itself, or the
        # first config is never read.
        sensor = super().new(config, dependencies)
        sensor.reconfigure(config, dependencies)
        return sensor

    @classmethod
    def validate_config(cls, config: ComponentConfig) -> tuple[Sequence[str], Sequence[str]]:
        # Runs before new and before every reconfigure: a bad value is
        # refused with its field, and axle shows the error for this sensor.
        offset = struct_to_dict(config.attributes).get("offset_c", 0.0)
        if not isinstance(offset, (int, float)):
            raise ValueError(f"offset_c: expected a number of degrees, got {offset!r}")
        return [], []

    def reconfigure(self, config: ComponentConfig, dependencies: Mapping[ResourceName, ResourceBase]) -> None:
        self.offset_c = float(struct_to_dict(config.attributes).get("offset_c", 0.0))

    async def get_readings(
        self, *, extra: Optional[Mapping[str, Any]] = None, timeout: Optional[float] = None, **kwargs
    ) -> Mapping[str, SensorReading]:
        try:
            celsius = int(ZONE.read_text()) / 1000.0
            source = str(ZONE)
        except (OSError, ValueError):
            celsius = 40.0 + 5.0 * math.sin(time.monotonic() / 10.0)
            source = "simulated"
        return {"temperature_c": celsius + self.offset_c, "source": source}


if __name__ == "__main__":
    asyncio.run(Module.run_from_registry())
