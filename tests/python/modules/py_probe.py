"""An unmodified viam-sdk module for the stop-path tests.

- A motor of model `$VIAM_TEST_MODEL` (default `acme:test:probe`), so that
  several modules run from this file each serve a model of their own. Its
  Stop appends `NAME MONOTONIC_SECONDS` to the file `$VIAM_TEST_STOP_LOG`,
  so a test sees when each stop arrived, even after axle has exited. With
  `VIAM_TEST_HANG_STOP=1`, Stop hangs instead.
- With `VIAM_TEST_DRIVER=1`, also `acme:test:driver`: a generic component
  whose attribute `drives` names the resources it drives. Its
  ValidateConfig returns them as dependencies, as a real driver's would, so
  a crash of its module stops them.
"""

import asyncio
import os
import time

from viam.components.generic import Generic
from viam.components.motor import Motor
from viam.module.module import Module
from viam.resource.easy_resource import EasyResource


class Probe(Motor, EasyResource):
    MODEL = os.environ.get("VIAM_TEST_MODEL", "acme:test:probe")

    def __init__(self, name):
        super().__init__(name)
        self.power = 0.0

    async def set_power(self, power, *, extra=None, timeout=None, **kwargs):
        self.power = power

    async def set_rpm(self, rpm, *, extra=None, timeout=None, **kwargs):
        self.power = 1.0

    async def go_for(self, rpm, revolutions, *, extra=None, timeout=None, **kwargs):
        raise NotImplementedError("go_for")

    async def go_to(self, rpm, position_revolutions, *, extra=None, timeout=None, **kwargs):
        raise NotImplementedError("go_to")

    async def reset_zero_position(self, offset, *, extra=None, timeout=None, **kwargs):
        pass

    async def get_position(self, *, extra=None, timeout=None, **kwargs):
        return 0.0

    async def get_properties(self, *, extra=None, timeout=None, **kwargs):
        return Motor.Properties(position_reporting=False)

    async def stop(self, *, extra=None, timeout=None, **kwargs):
        if os.environ.get("VIAM_TEST_HANG_STOP") == "1":
            await asyncio.sleep(3600)
        self.power = 0.0
        with open(os.environ["VIAM_TEST_STOP_LOG"], "a") as log:
            log.write(f"{self.name} {time.monotonic()}\n")

    async def is_powered(self, *, extra=None, timeout=None, **kwargs):
        return self.power != 0.0, self.power

    async def is_moving(self):
        return self.power != 0.0


class Driver(Generic, EasyResource, register=False):
    MODEL = "acme:test:driver"

    @classmethod
    def validate_config(cls, config):
        drives = config.attributes.fields["drives"].list_value.values
        return [v.string_value for v in drives], []


if __name__ == "__main__":
    if os.environ.get("VIAM_TEST_DRIVER") == "1":
        Driver.register()
    asyncio.run(Module.run_from_registry())
