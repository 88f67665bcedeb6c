"""An unmodified viam-sdk module serving `acme:component:widget`, an API
axle has no .proto for (see `widget_api.py`): its own service, registered
with the SDK's Registry, one method of each gRPC shape.
"""

import asyncio
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from grpclib.const import Handler  # noqa: E402
from viam.components.component_base import ComponentBase  # noqa: E402
from viam.module.module import Module  # noqa: E402
from viam.resource.types import API  # noqa: E402
from viam.resource.easy_resource import EasyResource  # noqa: E402
from viam.resource.registry import Registry, ResourceRegistration  # noqa: E402
from viam.resource.rpc_service_base import ResourceRPCServiceBase  # noqa: E402

import widget_api as w  # noqa: E402


class Widget(ComponentBase):
    API = API("acme", "component", "widget")


class WidgetService(ResourceRPCServiceBase):
    RESOURCE_TYPE = Widget

    async def spin(self, stream):
        req = await stream.recv_message()
        self.get_resource(req.name)
        await stream.send_message(w.types["SpinResponse"](name=req.name, turns=req.turns * 2))

    async def count(self, stream):
        req = await stream.recv_message()
        self.get_resource(req.name)
        for i in range(req.n):
            await stream.send_message(w.types["CountResponse"](i=i))

    async def sum(self, stream):
        # The first message names the widget; a part renames only that one.
        total = messages = 0
        async for req in stream:
            if messages == 0:
                self.get_resource(req.name)
            total += req.x
            messages += 1
        await stream.send_message(w.types["SumResponse"](total=total, messages=messages))

    async def echo(self, stream):
        async for req in stream:
            await stream.send_message(w.types["SpinResponse"](name=req.name, turns=req.turns))

    def __mapping__(self):
        handlers = {"Spin": self.spin, "Count": self.count, "Sum": self.sum, "Echo": self.echo}
        return {w.path(m): Handler(handlers[m], card, w.types[req], w.types[resp])
                for m, (req, resp, card) in w.METHODS.items()}


Registry.register_api(ResourceRegistration(Widget, WidgetService, lambda name, channel: None))


class MyWidget(Widget, EasyResource):
    MODEL = "acme:test:widget"


if __name__ == "__main__":
    asyncio.run(Module.run_from_registry())
