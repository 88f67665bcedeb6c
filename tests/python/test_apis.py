"""Every Viam API: resources of any API (a camera, a sensor, an arm, a vision
service) are served by an unmodified viam-sdk module, through axle and through a main part, streams and big messages
included.
"""

import asyncio

import pytest
from grpclib import GRPCError, Status
from viam.components.arm import Arm, JointPositions
from viam.components.camera import Camera
from viam.components.sensor import Sensor
from viam.proto.component.camera import CameraServiceStub, GetImagesRequest
from viam.services.vision import VisionClient

from conftest import connect, run
from test_modules import module, script

import pathlib
import sys

PY_THINGS = pathlib.Path(__file__).parent / "modules" / "py_things.py"
PY_WIDGET = pathlib.Path(__file__).parent / "modules" / "py_widget.py"
MIB = 1024 * 1024


def things(tmp_path, image_bytes=1000):
    path = script(tmp_path, "py-things", f'#!/bin/sh\nexec {sys.executable} {PY_THINGS} "$@"\n')
    return {
        "modules": [module("py-things", path)],
        "components": [
            {"name": "cam", "api": "rdk:component:camera", "model": "acme:test:pycamera",
             "attributes": {"image_bytes": image_bytes}},
            {"name": "thermo", "api": "rdk:component:sensor", "model": "acme:test:pysensor"},
            {"name": "arm", "api": "rdk:component:arm", "model": "acme:test:pyarm"},
        ],
        "services": [{"name": "detector", "api": "rdk:service:vision", "model": "acme:test:pyvision"}],
    }


def pattern(n):
    return bytes(i % 251 for i in range(n))


async def use_everything(address, prefix="", image_bytes=1000):
    robot = await connect(address)
    try:
        names = {(r.subtype, r.name) for r in robot.resource_names}
        assert {("camera", f"{prefix}cam"), ("sensor", f"{prefix}thermo"), ("vision", f"{prefix}detector"),
                ("arm", f"{prefix}arm")} <= names
        images, _ = await Camera.from_robot(robot, f"{prefix}cam").get_images()
        assert images[0].data == pattern(image_bytes)
        readings = await Sensor.from_robot(robot, f"{prefix}thermo").get_readings()
        assert readings["temperature"] == 21.5
        arm = Arm.from_robot(robot, f"{prefix}arm")
        await arm.move_to_joint_positions(JointPositions(values=[10, 20, 30, 40, 50, 60]))
        assert list((await arm.get_joint_positions()).values) == [10, 20, 30, 40, 50, 60]
        assert (await arm.get_end_position()).z == 3
        await arm.stop()
        assert not await arm.is_moving()
        vision = VisionClient.from_robot(robot, f"{prefix}detector")
        detections = await vision.get_detections_from_camera(f"{prefix}cam")
        assert detections[0].class_name == "widget"
        big = {"blob": "x" * 100_000, "n": [1, 2, 3]}
        assert (await Camera.from_robot(robot, f"{prefix}cam").do_command(big))["echo"] == big
        assert (await vision.do_command({"hi": 1}))["echo"] == {"hi": 1}
        subtypes = {s.proto_service for s in (await robot._client.ResourceRPCSubtypes(
            __import__("viam.proto.robot", fromlist=["x"]).ResourceRPCSubtypesRequest())).resource_rpc_subtypes}
        assert "viam.component.camera.v1.CameraService" in subtypes
        assert "viam.service.vision.v1.VisionService" in subtypes
        status = await robot.get_machine_status()
        assert f"{prefix}cam" in {r.name.name for r in status.resources}
        # A name that is a resource of another API: NOT_FOUND, saying so.
        with pytest.raises(GRPCError) as e:
            await CameraServiceStub(robot._channel).GetImages(GetImagesRequest(name=f"{prefix}thermo"))
        assert e.value.status == Status.NOT_FOUND
        assert "rdk:component:sensor, not a rdk:component:camera" in e.value.message
        with pytest.raises(GRPCError) as e:
            await CameraServiceStub(robot._channel).GetImages(GetImagesRequest(name="ghost"))
        assert e.value.status == Status.NOT_FOUND
    finally:
        await robot.close()


def test_a_python_module_serves_a_camera_a_sensor_an_arm_and_a_vision_service(start_axle, tmp_path):
    axle = start_axle(things(tmp_path, image_bytes=3 * MIB))
    run(use_everything(axle.address, image_bytes=3 * MIB))


def test_a_sub_parts_module_resources_are_served_by_the_main_part(start_axle, tmp_path):
    sub = start_axle(things(tmp_path, image_bytes=3 * MIB))
    main = start_axle({"remotes": [{"name": "sub", "address": sub.address}]})
    run(use_everything(main.address, prefix="sub:", image_bytes=3 * MIB))


def widget_robot(tmp_path):
    path = script(tmp_path, "py-widget", f'#!/bin/sh\nexec {sys.executable} {PY_WIDGET} "$@"\n')
    return {
        "modules": [module("py-widget", path)],
        "components": [{"name": "w1", "api": "acme:component:widget", "model": "acme:test:widget"}],
    }


async def use_widget(address, name):
    from grpclib.client import Channel
    import widget_api as w

    host, port = address.rsplit(":", 1)
    channel = Channel(host, int(port))
    try:
        t = w.types
        spun = await w.call(channel, "Spin")(t["SpinRequest"](name=name, turns=21))
        assert spun.turns == 42
        counted = await w.call(channel, "Count")(t["CountRequest"](name=name, n=5))
        assert [c.i for c in counted] == [0, 1, 2, 3, 4]
        # A client stream whose messages come one by one, after the first.
        async with w.call(channel, "Sum").open() as stream:
            for x in range(1, 11):
                await stream.send_message(t["SumRequest"](name=name, x=x))
                await asyncio.sleep(0.01)
            await stream.end()
            summed = await stream.recv_message()
        assert (summed.total, summed.messages) == (55, 10)
        # Both ways: each answer comes before the next request is sent.
        async with w.call(channel, "Echo").open() as stream:
            for turns in range(3):
                await stream.send_message(t["SpinRequest"](name=name, turns=turns))
                echoed = await asyncio.wait_for(stream.recv_message(), 5)
                assert echoed.turns == turns
            await stream.end()
        with pytest.raises(GRPCError) as e:
            await w.call(channel, "Spin")(t["SpinRequest"](name="ghost"))
        assert e.value.status == Status.NOT_FOUND
    finally:
        channel.close()


def test_an_api_axle_has_no_proto_for_is_forwarded_with_streams_both_ways(start_axle, tmp_path):
    axle = start_axle(widget_robot(tmp_path))
    run(use_widget(axle.address, "w1"))
    main = start_axle({"remotes": [{"name": "sub", "address": axle.address}]})
    run(use_widget(main.address, "sub:w1"))


def test_a_killed_client_has_a_modular_arm_a_remote_gripper_and_a_servo_stopped(start_axle, tmp_path):
    from test_sessions import Client
    from viam.components.arm import Arm
    from viam.components.gantry import Gantry
    from viam.components.gripper import Gripper
    from viam.components.servo import Servo
    import signal as sig
    import time

    def moving_parts(tmp):
        robot = things(tmp)
        robot["components"] += [
            {"name": "gripper", "api": "rdk:component:gripper", "model": "acme:test:pygripper"},
        ]
        robot["network"] = {"sessions": {"heartbeat_window": "500ms"}}
        return robot

    sub_dir = tmp_path / "sub"
    sub_dir.mkdir()
    sub = start_axle(moving_parts(sub_dir))
    config = moving_parts(tmp_path)
    config["components"] += [
        {"name": "servo", "api": "rdk:component:servo", "model": "fake", "attributes": {"degs_per_sec": 10}},
        {"name": "gantry", "api": "rdk:component:gantry", "model": "fake", "attributes": {"mm_per_sec": 10}},
    ]
    main = start_axle({**config, "remotes": [{"name": "sub", "address": sub.address}]})
    client = Client("python", main.address)
    assert client.send("arm arm") == "ok"
    assert client.send("grab sub:gripper") == "ok"
    assert client.send("servo servo 180") == "started"

    async def watch():
        robot = await connect(main.address)
        arm, gripper = Arm.from_robot(robot, "arm"), Gripper.from_robot(robot, "sub:gripper")
        servo, gantry = Servo.from_robot(robot, "servo"), Gantry.from_robot(robot, "gantry")
        parts = (arm, gripper, servo)
        assert all([await p.is_moving() for p in parts])
        client.signal(sig.SIGKILL)
        killed = time.monotonic()
        while any([await p.is_moving() for p in parts]):
            assert time.monotonic() - killed < 5, "not stopped"
            await asyncio.sleep(0.01)
        took = time.monotonic() - killed
        assert took <= 0.6, f"stopped {took:.3f} s after the client died (window 500 ms)"
        assert (await arm.do_command({}))["stops"] >= 1
        assert (await gripper.do_command({}))["stops"] >= 1
        assert 0 < await servo.get_position() < 180, "the servo stopped part way"
        # StopAll reaches every actuator of every API, wherever it is served.
        await arm.move_to_joint_positions(__import__("viam.components.arm", fromlist=["x"]).JointPositions(values=[1]))
        await gripper.grab()
        moves = [asyncio.create_task(servo.move(180)), asyncio.create_task(gantry.move_to_position([500, 500, 500], []))]
        await asyncio.sleep(0.2)
        assert await servo.is_moving() and await gantry.is_moving()
        await robot.stop_all()
        for m in moves:
            with pytest.raises(GRPCError) as e:
                await m
            assert e.value.status == Status.ABORTED
        assert not any([await p.is_moving() for p in (*parts, gantry)])
        await robot.close()
        return took

    took = run(watch())
    print(f"\nmodular arm, remote gripper and built-in servo stopped {took * 1000:.0f} ms after the client was killed")


def test_reflection_lists_every_service_with_the_monitored_methods_marked(rover):
    from google.protobuf import descriptor_pb2
    from grpclib.client import Channel
    from grpclib.reflection.v1.reflection_grpc import ServerReflectionStub
    from grpclib.reflection.v1.reflection_pb2 import ServerReflectionRequest
    from viam.gen.common.v1 import common_pb2

    # Upstream's monitored methods, as the Python SDK's own descriptors say.
    import importlib
    import pkgutil
    import viam.gen.component as components
    upstream = set()
    for m in pkgutil.iter_modules(components.__path__):
        package = importlib.import_module(f"viam.gen.component.{m.name}.v1")
        for f in pathlib.Path(package.__path__[0]).glob("*_pb2.py"):
            module = importlib.import_module(f"viam.gen.component.{m.name}.v1.{f.stem}")
            for s in module.DESCRIPTOR.services_by_name.values():
                for method in s.methods:
                    if method.GetOptions().Extensions[common_pb2.safety_heartbeat_monitored]:
                        upstream.add(f"{s.full_name}/{method.name}")
    assert len(upstream) >= 18

    async def go():
        host, port = rover.address.rsplit(":", 1)
        channel = Channel(host, int(port))
        stub = ServerReflectionStub(channel)
        try:
            async with stub.ServerReflectionInfo.open() as stream:
                await stream.send_message(ServerReflectionRequest(list_services=""))
                listed = [s.name for s in (await stream.recv_message()).list_services_response.service]
                marked = set()
                for service in listed:
                    await stream.send_message(ServerReflectionRequest(file_containing_symbol=service))
                    reply = await stream.recv_message()
                    for raw in reply.file_descriptor_response.file_descriptor_proto:
                        f = descriptor_pb2.FileDescriptorProto.FromString(raw)
                        for s in f.service:
                            for method in s.method:
                                if method.options.Extensions[common_pb2.safety_heartbeat_monitored]:
                                    marked.add(f"{f.package}.{s.name}/{method.name}")
                await stream.end()
            return listed, marked
        finally:
            channel.close()

    listed, marked = run(go())
    for service in ["viam.robot.v1.RobotService", "viam.component.motor.v1.MotorService",
                    "viam.component.camera.v1.CameraService", "viam.component.arm.v1.ArmService",
                    "viam.service.vision.v1.VisionService", "grpc.reflection.v1.ServerReflection"]:
        assert service in listed, listed
    assert "viam.app.data.v1.DataService" not in listed
    assert upstream <= marked, upstream - marked
    print(f"\n{len(listed)} services listed; {len(marked)} monitored methods marked")


def test_new_apis_are_built_in_dependency_order_and_edited_live(start_axle, tmp_path):
    from test_reconfigure import wait_revision, write

    config = things(tmp_path, image_bytes=1000)
    # The detector needs the camera, declared after the sensor: built after it.
    config["services"][0]["depends_on"] = ["cam"]
    config["components"].insert(0, config["components"].pop())
    axle = start_axle(config)
    log = axle.log_text()
    assert log.index("resource ready resource=cam") < log.index("resource ready resource=detector")

    async def scenario():
        robot = await connect(axle.address)
        cam = Camera.from_robot(robot, "cam")
        assert len((await cam.get_images())[0][0].data) == 1000
        # An attribute edit reaches the module's camera in place.
        config["components"][1]["attributes"]["image_bytes"] = 2000
        await wait_revision(robot, write(axle.config_path, config))
        images, _ = await cam.get_images()
        assert images[0].data == pattern(2000)
        await robot.close()

    run(scenario())
    assert "resource reconfigured in place resource=cam" in axle.log_text()
