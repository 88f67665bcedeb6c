"""An unmodified viam-sdk module: a motor model written with EasyResource.

Its position integrates power over time, like axle's fake motor, so tests can
see it move. `VIAM_TEST_HANG_STOP=1` in its environment makes Stop hang, to
rehearse a hung module.
"""

import asyncio
import os
import time

from viam.components.motor import Motor
from viam.module.module import Module
from viam.resource.easy_resource import EasyResource

RPM = 60.0


class PyMotor(Motor, EasyResource):
    MODEL = "acme:test:pymotor"

    def __init__(self, name):
        super().__init__(name)
        self.power = 0.0
        self.since = time.monotonic()
        self.base_position = 0.0

    def _settle(self):
        now = time.monotonic()
        self.base_position += self.power * RPM * (now - self.since) / 60.0
        self.since = now

    async def set_power(self, power, *, extra=None, timeout=None, **kwargs):
        self._settle()
        self.power = power

    async def set_rpm(self, rpm, *, extra=None, timeout=None, **kwargs):
        await self.set_power(rpm / RPM)

    async def go_for(self, rpm, revolutions, *, extra=None, timeout=None, **kwargs):
        await self.set_power(rpm / RPM)
        await asyncio.sleep(abs(revolutions / rpm) * 60.0)
        await self.stop()

    async def go_to(self, rpm, position_revolutions, *, extra=None, timeout=None, **kwargs):
        raise NotImplementedError("go_to")

    async def reset_zero_position(self, offset, *, extra=None, timeout=None, **kwargs):
        self._settle()
        self.base_position = offset

    async def get_position(self, *, extra=None, timeout=None, **kwargs):
        self._settle()
        return self.base_position

    async def get_properties(self, *, extra=None, timeout=None, **kwargs):
        return Motor.Properties(position_reporting=True)

    async def stop(self, *, extra=None, timeout=None, **kwargs):
        if os.environ.get("VIAM_TEST_HANG_STOP") == "1":
            await asyncio.sleep(3600)
        await self.set_power(0.0)

    async def is_powered(self, *, extra=None, timeout=None, **kwargs):
        return abs(self.power) >= 0.005, self.power

    async def is_moving(self):
        return abs(self.power) >= 0.005


if __name__ == "__main__":
    asyncio.run(Module.run_from_registry())
