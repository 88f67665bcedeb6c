"""Every built-in fake model, driven by the unmodified Python client as
upstream's fakes would be: motions take time and end at once on Stop, and
bad arguments get INVALID_ARGUMENT naming the argument.
"""

import asyncio
import io
import json
import time

import pytest
from grpclib import GRPCError, Status
from viam.components.arm import Arm, JointPositions
from viam.components.button import Button
from viam.components.camera import Camera
from viam.components.encoder import Encoder
from viam.proto.component.encoder import PositionType
from viam.components.gantry import Gantry
from viam.components.generic import Generic
from viam.components.gripper import Gripper
from viam.components.motor import Motor
from viam.components.movement_sensor import MovementSensor
from viam.components.power_sensor import PowerSensor
from viam.components.sensor import Sensor
from viam.components.servo import Servo
from viam.components.switch import Switch
from viam.proto.common import Pose
from viam.services.generic import Generic as GenericService

from conftest import connect, run

FAKES = {
    "components": [
        {"name": "servo", "api": "rdk:component:servo", "model": "fake", "attributes": {"degs_per_sec": 300}},
        {"name": "gripper", "api": "rdk:component:gripper", "model": "fake"},
        {"name": "arm", "api": "rdk:component:arm", "model": "fake", "attributes": {"degs_per_sec": 180}},
        {"name": "gantry", "api": "rdk:component:gantry", "model": "fake", "attributes": {"mm_per_sec": 1000}},
        {"name": "encoder", "api": "rdk:component:encoder", "model": "fake",
         "attributes": {"ticks_per_second": 1000, "ticks_per_rotation": 100}},
        {"name": "wheel", "api": "rdk:component:motor", "model": "fake", "attributes": {"max_rpm": 1200}},
        {"name": "shaft", "api": "rdk:component:encoder", "model": "fake",
         "attributes": {"motor": "wheel", "ticks_per_rotation": 100}},
        {"name": "thermo", "api": "rdk:component:sensor", "model": "fake",
         "attributes": {"readings": {"temperature_c": 21.5, "ok": True}}},
        {"name": "imu", "api": "rdk:component:movement_sensor", "model": "fake",
         "attributes": {"radius_m": 2, "speed_mps": 1}},
        {"name": "battery", "api": "rdk:component:power_sensor", "model": "fake",
         "attributes": {"volts": 24, "amperes": 2}},
        {"name": "cam", "api": "rdk:component:camera", "model": "fake",
         "attributes": {"width_px": 320, "height_px": 240, "frame_rate": 100}},
        {"name": "pngcam", "api": "rdk:component:camera", "model": "fake",
         "attributes": {"width_px": 32, "height_px": 16, "mime_type": "image/png"}},
        {"name": "estop", "api": "rdk:component:button", "model": "fake"},
        {"name": "mode", "api": "rdk:component:switch", "model": "fake",
         "attributes": {"position_count": 3, "labels": ["off", "slow", "fast"]}},
        {"name": "thing", "api": "rdk:component:generic", "model": "fake"},
    ],
    "services": [{"name": "helper", "api": "rdk:service:generic", "model": "fake"}],
}


@pytest.fixture
def fakes(start_axle):
    return start_axle(FAKES)


async def invalid(call, *words):
    """Asserts `call` fails with INVALID_ARGUMENT whose message has `words`."""
    with pytest.raises(GRPCError) as e:
        await call
    assert e.value.status == Status.INVALID_ARGUMENT, e.value
    for w in words:
        assert w in e.value.message, e.value.message


def test_servo_moves_in_time_and_stops_at_once(fakes):
    async def go():
        robot = await connect(fakes.address)
        servo = Servo.from_robot(robot, "servo")
        t0 = time.monotonic()
        await servo.move(90)
        assert 0.25 <= time.monotonic() - t0 < 1.5
        assert await servo.get_position() == 90
        moving = asyncio.create_task(servo.move(0))
        await asyncio.sleep(0.1)
        assert await servo.is_moving()
        await servo.stop()
        with pytest.raises(GRPCError) as e:
            await moving
        assert e.value.status == Status.ABORTED
        assert 30 < await servo.get_position() < 90
        assert not await servo.is_moving()
        await invalid(servo.move(181), "angle_deg", "0 to 180")
        await robot.close()

    run(go())


def test_gripper_opens_grabs_and_goes_to_inputs(fakes):
    async def go():
        robot = await connect(fakes.address)
        g = Gripper.from_robot(robot, "gripper")
        assert await g.grab() is True
        assert await g.is_holding_something()
        assert (await g.get_current_inputs()) == [40.0]
        await g.open()
        assert not (await g.is_holding_something()).is_holding_something
        await g.go_to_inputs([70.0])
        assert await g.get_current_inputs() == [70.0]
        await invalid(g.go_to_inputs([500.0]), "values[0]", "0 to 100 mm")
        await invalid(g.go_to_inputs([1.0, 2.0]), "values", "1 input")
        await invalid(g.go_to_inputs([float("nan")]), "values[0]", "finite")
        kinematics = await g.get_kinematics()
        assert json.loads(kinematics[1])["joints"][0]["type"] == "prismatic"
        await robot.close()

    run(go())


def test_arm_moves_joints_and_poses_through_its_chain(fakes):
    async def go():
        robot = await connect(fakes.address)
        arm = Arm.from_robot(robot, "arm")
        assert list((await arm.get_joint_positions()).values) == [0, 0, 0]
        home = await arm.get_end_position()
        assert (home.x, home.y, home.z) == pytest.approx((700, 0, 200))
        await arm.move_to_joint_positions(JointPositions(values=[90, 0, 0]))
        p = await arm.get_end_position()
        assert (p.x, p.y, p.z) == pytest.approx((0, 700, 200), abs=1e-6)
        await arm.move_to_position(Pose(x=300, y=300, z=400, o_z=1))
        p = await arm.get_end_position()
        assert (p.x, p.y, p.z) == pytest.approx((300, 300, 400), abs=1e-6)
        t0 = time.monotonic()
        await arm.move_through_joint_positions([JointPositions(values=[0, 0, 0]), JointPositions(values=[45, 10, -10])])
        assert time.monotonic() - t0 > 0.2
        assert list((await arm.get_joint_positions()).values) == pytest.approx([45, 10, -10])
        # Stop ends a motion at once, wherever the joints are.
        moving = asyncio.create_task(arm.move_to_joint_positions(JointPositions(values=[-135, 90, 90])))
        await asyncio.sleep(0.2)
        assert await arm.is_moving()
        await arm.stop()
        with pytest.raises(GRPCError):
            await moving
        assert not await arm.is_moving()
        await invalid(arm.move_to_joint_positions(JointPositions(values=[0, 0])), "positions.values", "3 joint positions")
        await invalid(arm.move_to_joint_positions(JointPositions(values=[0, 0, 400])), "positions.values[2]", "elbow")
        await invalid(arm.move_to_position(Pose(x=5000, y=0, z=0)), "out of the arm's reach")
        kinematics = json.loads((await arm.get_kinematics())[1])
        assert [j["id"] for j in kinematics["joints"]] == ["waist", "shoulder", "elbow"]
        await robot.close()

    run(go())


def test_gantry_moves_homes_and_refuses_what_is_off_its_axes(fakes):
    async def go():
        robot = await connect(fakes.address)
        g = Gantry.from_robot(robot, "gantry")
        assert await g.get_lengths() == [1000, 1000, 500]
        await g.move_to_position([500, 250, 100], [])
        assert await g.get_position() == [500, 250, 100]
        await g.move_to_position([0, 0, 0], [2000, 2000, 2000])
        assert await g.home()
        await invalid(g.move_to_position([0, 2000, 0], []), "positions_mm[1]", "0 to 1000 mm")
        await invalid(g.move_to_position([0, 0], []), "positions_mm", "3 values")
        await invalid(g.move_to_position([1, 1, 1], [1, 0, 1]), "speeds_mm_per_sec[1]")
        assert json.loads((await g.get_kinematics())[1])["joints"][2]["type"] == "prismatic"
        await robot.close()

    run(go())


def test_encoder_counts_and_resets(fakes):
    async def go():
        robot = await connect(fakes.address)
        e = Encoder.from_robot(robot, "encoder")
        await asyncio.sleep(0.1)
        ticks, kind = await e.get_position()
        assert ticks > 50 and kind == PositionType.POSITION_TYPE_TICKS_COUNT
        degrees, kind = await e.get_position(PositionType.POSITION_TYPE_ANGLE_DEGREES)
        assert kind == PositionType.POSITION_TYPE_ANGLE_DEGREES and degrees >= ticks * 3.6
        await e.reset_position()
        assert (await e.get_position())[0] < ticks
        props = await e.get_properties()
        assert props.ticks_count_supported and props.angle_degrees_supported
        # An encoder on a motor's shaft counts what the motor turns.
        shaft, wheel = Encoder.from_robot(robot, "shaft"), Motor.from_robot(robot, "wheel")
        await wheel.go_for(rpm=1200, revolutions=2)
        assert (await shaft.get_position())[0] == 200
        await shaft.reset_position()
        await wheel.go_for(rpm=1200, revolutions=-0.5)
        assert (await shaft.get_position())[0] == -50
        assert (await shaft.get_position(PositionType.POSITION_TYPE_ANGLE_DEGREES))[0] == -180
        await robot.close()

    run(go())


def test_sensors_read(fakes):
    async def go():
        robot = await connect(fakes.address)
        assert await Sensor.from_robot(robot, "thermo").get_readings() == {"temperature_c": 21.5, "ok": True}
        imu = MovementSensor.from_robot(robot, "imu")
        props = await imu.get_properties()
        assert props.position_supported and props.compass_heading_supported
        first = await imu.get_position()
        await asyncio.sleep(0.2)
        second = await imu.get_position()
        assert first[0] != second[0], "the sensor moves along its path"
        assert (await imu.get_linear_velocity()).y == pytest.approx(1)
        assert (await imu.get_angular_velocity()).z == pytest.approx(28.6478, rel=1e-3)
        assert (await imu.get_linear_acceleration()).x == pytest.approx(-0.5)
        assert 0 <= await imu.get_compass_heading() < 360
        assert (await imu.get_orientation()).o_z == 1
        readings = await imu.get_readings()
        assert {"position", "compass", "linear_velocity", "orientation"} <= readings.keys()
        assert (await imu.get_accuracy()).accuracy["position_m"] == 0.5
        battery = PowerSensor.from_robot(robot, "battery")
        assert await battery.get_voltage() == (24, False)
        assert await battery.get_current() == (2, False)
        assert await battery.get_power() == 48
        assert (await battery.get_readings())["watts"] == 48
        await robot.close()

    run(go())


def test_cameras_give_moving_jpeg_and_png_frames(fakes):
    from PIL import Image

    async def go():
        robot = await connect(fakes.address)
        cam = Camera.from_robot(robot, "cam")
        images, meta = await cam.get_images()
        assert images[0].mime_type == "image/jpeg" and images[0].name == "color"
        first = Image.open(io.BytesIO(images[0].data))
        assert first.size == (320, 240)
        await asyncio.sleep(0.05)
        second = Image.open(io.BytesIO((await cam.get_images())[0][0].data))
        assert first.tobytes() != second.tobytes(), "the pattern moves"
        props = await cam.get_properties()
        assert props.intrinsic_parameters.width_px == 320 and "image/png" in props.mime_types
        png = (await Camera.from_robot(robot, "pngcam").get_images())[0][0]
        assert png.mime_type == "image/png" and Image.open(io.BytesIO(png.data)).size == (32, 16)
        await invalid(cam.get_images(filter_source_names=["depth"]), "filter_source_names", "depth")
        await robot.close()

    run(go())


def test_button_switch_and_generics(fakes):
    async def go():
        robot = await connect(fakes.address)
        button = Button.from_robot(robot, "estop")
        await button.push()
        await button.push()
        assert (await button.get_status())["pushes"] == 2
        switch = Switch.from_robot(robot, "mode")
        assert await switch.get_number_of_positions() == (3, ["off", "slow", "fast"])
        await switch.set_position(2)
        assert await switch.get_position() == 2
        await invalid(switch.set_position(3), "position 3", "3 positions")
        assert await Generic.from_robot(robot, "thing").do_command({"ping": [1, "a"]}) == {"ping": [1, "a"]}
        assert await GenericService.from_robot(robot, "helper").do_command({"x": 1}) == {"x": 1}
        await robot.close()

    run(go())


def test_bad_attributes_are_named(start_axle):
    config = {"components": [
        {"name": "s", "api": "rdk:component:servo", "model": "fake", "attributes": {"max_angle_deg": 400}},
        {"name": "c", "api": "rdk:component:camera", "model": "fake", "attributes": {"mime_type": "image/gif"}},
        {"name": "g", "api": "rdk:component:gantry", "model": "fake", "attributes": {"lengths_mm": [100, -1]}},
        {"name": "w", "api": "rdk:component:switch", "model": "fake", "attributes": {"position_count": 2, "labels": ["a"]}},
        {"name": "e", "api": "rdk:component:encoder", "model": "fake", "attributes": {"motor": "nowhere"}},
        {"name": "e2", "api": "rdk:component:encoder", "model": "fake", "attributes": {"motor": "s"}},
    ]}
    axle = start_axle(config)

    async def go():
        robot = await connect(axle.address)
        status = await robot.get_machine_status()
        errors = {r.name.name: r.error for r in status.resources}
        assert "attributes.max_angle_deg" in errors["s"]
        assert "attributes.mime_type" in errors["c"] and "image/gif" in errors["c"]
        assert "attributes.lengths_mm" in errors["g"]
        assert "attributes.labels" in errors["w"]
        assert "attributes.motor" in errors["e"] and "nowhere" in errors["e"]
        assert "s" in errors["e2"] and "failed to build" in errors["e2"]
        await robot.close()

    run(go())


def test_the_same_drivers_serve_from_a_module_and_through_a_part(start_axle, tmp_path):
    """The fakes module runs the very drivers axle has built in."""
    from test_modules import FAKE_MOTOR, module

    sub = start_axle({
        "modules": [module("fakes", FAKE_MOTOR)],
        "components": [
            {"name": "servo", "api": "rdk:component:servo", "model": "axle:fake:servo"},
            {"name": "cam", "api": "rdk:component:camera", "model": "axle:fake:camera",
             "attributes": {"width_px": 1280, "height_px": 960, "mime_type": "image/png"}},
            {"name": "arm", "api": "rdk:component:arm", "model": "axle:fake:arm"},
            {"name": "imu", "api": "rdk:component:movement_sensor", "model": "axle:fake:movement_sensor"},
        ],
    })
    main = start_axle({"remotes": [{"name": "sub", "address": sub.address}]})
    from PIL import Image

    async def go(address, prefix):
        robot = await connect(address)
        servo = Servo.from_robot(robot, f"{prefix}servo")
        await servo.move(45)
        assert await servo.get_position() == 45
        await invalid(servo.move(200), "angle_deg", "0 to 180")
        png = (await Camera.from_robot(robot, f"{prefix}cam").get_images())[0][0]
        assert png.mime_type == "image/png" and Image.open(io.BytesIO(png.data)).size == (1280, 960)
        arm = Arm.from_robot(robot, f"{prefix}arm")
        await arm.move_to_position(Pose(x=400, y=-200, z=300))
        p = await arm.get_end_position()
        assert (p.x, p.y, p.z) == pytest.approx((400, -200, 300), abs=1e-6)
        assert (await MovementSensor.from_robot(robot, f"{prefix}imu").get_properties()).position_supported
        await robot.close()

    run(go(sub.address, ""))
    run(go(main.address, "sub:"))


def test_built_in_fakes_are_edited_live_and_dependents_follow(start_axle):
    from PIL import Image
    from test_reconfigure import wait_revision, write

    config = {"components": [
        # The encoder reads the motor: built after it though listed first.
        {"name": "shaft", "api": "rdk:component:encoder", "model": "fake", "attributes": {"motor": "wheel"}},
        {"name": "wheel", "api": "rdk:component:motor", "model": "fake", "attributes": {"max_rpm": 600}},
        {"name": "cam", "api": "rdk:component:camera", "model": "fake", "attributes": {"width_px": 64, "height_px": 48}},
    ]}
    axle = start_axle(config)
    log = axle.log_text()
    assert log.index("resource ready resource=wheel") < log.index("resource ready resource=shaft")

    async def scenario():
        robot = await connect(axle.address)
        cam = Camera.from_robot(robot, "cam")
        assert Image.open(io.BytesIO((await cam.get_images())[0][0].data)).size == (64, 48)
        config["components"][2]["attributes"] = {"width_px": 80, "height_px": 60}
        config["components"][1]["attributes"]["max_rpm"] = 1200
        await wait_revision(robot, write(axle.config_path, config))
        assert Image.open(io.BytesIO((await cam.get_images())[0][0].data)).size == (80, 60)
        # The rebuilt motor's encoder was rebuilt with it, and reads the new motor.
        await Motor.from_robot(robot, "wheel").go_for(rpm=1200, revolutions=1)
        assert (await Encoder.from_robot(robot, "shaft").get_position())[0] == 100
        # A bad edit is refused by name; the rest keeps serving.
        config["components"][2]["attributes"] = {"mime_type": "video/mp4"}
        await wait_revision(robot, write(axle.config_path, config))
        status = {r.name.name: r.error for r in (await robot.get_machine_status()).resources}
        assert "attributes.mime_type" in status["cam"]
        assert (await Encoder.from_robot(robot, "shaft").get_position())[0] == 100
        await robot.close()

    run(scenario())
