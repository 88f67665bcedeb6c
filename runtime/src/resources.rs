//! Resources as actors: the hosting code lives in `axle_sdk_module::host`,
//! shared with module processes; this adds what only the runtime has, a
//! running resource of any API, built in or served by a module.

pub use axle_sdk_module::host::*;

#[cfg(test)]
mod tests {
    use axle_sdk_module::fake::FakeMotor;
    use axle_sdk_module::host::*;
    use axle_sdk_module::{Actuator, Motion, Resource, ResourceError};
    use std::time::{Duration, Instant};

    fn motor() -> MotorHandle {
        let driver: Box<dyn axle_sdk_module::Motor> = Box::new(FakeMotor::new("m", 60.0));
        Handle::start("rdk:component:motor/m".into(), driver)
    }

    #[actix::test]
    async fn stop_interrupts_a_motion_in_flight_at_once() {
        let m = motor();
        let long = tokio::spawn(m.run("GoFor", |d| d.go_for(60.0, 60.0)));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(m.is_moving().await.unwrap());
        let t0 = Instant::now();
        m.stop("Stop").await.unwrap();
        let outcome = long.await.unwrap();
        assert!(t0.elapsed() < Duration::from_millis(20));
        assert!(
            matches!(outcome, Err(ResourceError::Aborted(msg)) if msg.contains("interrupted by Stop"))
        );
        assert!(!m.is_moving().await.unwrap());
    }

    #[actix::test]
    async fn a_new_command_supersedes_the_motion_in_flight() {
        let m = motor();
        let first = tokio::spawn(m.run("GoFor", |d| d.go_for(60.0, 60.0)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        m.set_power(0.5).await.unwrap();
        assert!(
            matches!(first.await.unwrap(), Err(ResourceError::Aborted(msg)) if msg.contains("by SetPower"))
        );
        // The old motion's timer must not stop the motor later.
        assert_eq!(m.is_powered().await.unwrap(), (true, 0.5));
    }

    #[actix::test]
    async fn a_motion_whose_waiter_is_dropped_is_stopped() {
        let m = motor();
        let waiter = tokio::spawn(m.run("GoFor", |d| d.go_for(60.0, 60.0)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        waiter.abort();
        let _ = waiter.await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!m.is_moving().await.unwrap());
    }

    #[actix::test]
    async fn a_blocking_driver_runs_on_its_own_arbiter() {
        let arbiter = actix::Arbiter::new();
        let driver: Box<dyn axle_sdk_module::Motor> = Box::new(FakeMotor::new("b", 60.0));
        let m: MotorHandle =
            Handle::start_on("rdk:component:motor/b".into(), driver, &arbiter.handle());
        let here = std::thread::current().id();
        let there = m.call(|_| Ok(std::thread::current().id())).await.unwrap();
        assert_ne!(here, there);
        m.go_for(6000.0, 1.0).await.unwrap();
        assert_eq!(m.position().await.unwrap(), 1.0);
        arbiter.stop();
    }

    /// A fake motor whose SetRPM always fails, as hardware sometimes does.
    struct Refuser(FakeMotor);

    impl Resource for Refuser {}

    impl Actuator for Refuser {
        fn stop(&mut self) -> Result<(), ResourceError> {
            self.0.stop()
        }
        fn is_moving(&mut self) -> Result<bool, ResourceError> {
            self.0.is_moving()
        }
        fn check_motion(&mut self) -> Result<Motion, ResourceError> {
            self.0.check_motion()
        }
    }

    impl axle_sdk_module::Motor for Refuser {
        fn set_power(&mut self, power: f64) -> Result<(), ResourceError> {
            self.0.set_power(power)
        }
        fn set_rpm(&mut self, _: f64) -> Result<(), ResourceError> {
            Err(ResourceError::Internal("driver fault".into()))
        }
        fn go_for(&mut self, rpm: f64, revolutions: f64) -> Result<Motion, ResourceError> {
            self.0.go_for(rpm, revolutions)
        }
        fn go_to(&mut self, rpm: f64, position: f64) -> Result<Motion, ResourceError> {
            self.0.go_to(rpm, position)
        }
        fn reset_zero_position(&mut self, _: f64) -> Result<(), ResourceError> {
            panic!("driver bug")
        }
        fn position(&mut self) -> Result<f64, ResourceError> {
            self.0.position()
        }
        fn properties(&mut self) -> Result<axle_sdk_module::MotorProperties, ResourceError> {
            self.0.properties()
        }
        fn is_powered(&mut self) -> Result<(bool, f64), ResourceError> {
            self.0.is_powered()
        }
    }

    #[actix::test]
    async fn a_refused_command_does_not_leave_the_interrupted_motion_running() {
        let driver: Box<dyn axle_sdk_module::Motor> = Box::new(Refuser(FakeMotor::new("r", 60.0)));
        let m: MotorHandle = Handle::start("rdk:component:motor/r".into(), driver);
        let first = tokio::spawn(m.run("GoFor", |d| d.go_for(60.0, 60.0)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            m.set_rpm(30.0).await,
            Err(ResourceError::Internal("driver fault".into()))
        );
        assert!(matches!(
            first.await.unwrap(),
            Err(ResourceError::Aborted(_))
        ));
        assert!(!m.is_moving().await.unwrap());
    }

    #[actix::test]
    async fn a_panicking_driver_call_is_an_error_and_stop_still_reaches_the_driver() {
        let driver: Box<dyn axle_sdk_module::Motor> = Box::new(Refuser(FakeMotor::new("r", 60.0)));
        let m: MotorHandle = Handle::start("rdk:component:motor/r".into(), driver);
        m.set_power(0.5).await.unwrap();
        let e = m.reset_zero_position(1.0).await.unwrap_err();
        assert!(
            matches!(&e, ResourceError::Internal(msg) if msg.contains("driver bug")),
            "{e:?}"
        );
        assert_eq!(m.is_powered().await.unwrap(), (true, 0.5));
        m.stoppable()
            .stop_within("test", Duration::from_secs(1))
            .await
            .unwrap();
        assert!(!m.is_moving().await.unwrap());
    }
}
