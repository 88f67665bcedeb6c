//! Drives one motor of an axle robot from Rust, under a session.
//!
//! ```text
//! target/release/drive_motor --motor left --power 0.5 --seconds 3   (built by `cargo build --release`)
//! ```
//!
//! The motor runs until `--seconds` pass or Ctrl-C, then this stops it. If
//! this process dies or freezes instead, its heartbeats stop and the robot
//! stops the motor itself one heartbeat window later, unless
//! `--disable-sessions` opted out of that.

use axle_sdk_module::client::{Options, RobotClient};
use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

#[derive(Parser)]
struct Args {
    /// The robot: host:port, or a Unix socket path.
    #[arg(long, env = "AXLE_ADDRESS", default_value = "127.0.0.1:8080")]
    address: String,
    /// The motor to drive.
    #[arg(long, default_value = "left")]
    motor: String,
    /// Fraction of full power, -1 to 1.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    power: f64,
    /// How long to drive; without it, until Ctrl-C.
    #[arg(long)]
    seconds: Option<f64>,
    /// Run without a session: the motor keeps running if this process dies.
    #[arg(long)]
    disable_sessions: bool,
    /// Call over a WebRTC peer connection (falls back to direct gRPC).
    #[arg(long)]
    webrtc: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match drive(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drive_motor: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn drive(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let options = Options {
        disable_sessions: args.disable_sessions,
        webrtc: args.webrtc,
        ..Options::default()
    };
    let robot = RobotClient::connect(&args.address, options).await?;
    let motor = robot.motor(&args.motor);
    motor.set_power(args.power).await?;
    let session = robot.session_id().await.unwrap_or_else(|| "none".into());
    // Scripts wait for this line before they act on the running motor.
    println!(
        "driving motor={} power={} session={session}",
        args.motor, args.power
    );
    let mut term = signal(SignalKind::terminate())?;
    let until = async {
        match args.seconds {
            Some(s) => tokio::time::sleep(Duration::from_secs_f64(s.max(0.0))).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = until => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    motor.stop().await?;
    println!("stopped motor={}", args.motor);
    Ok(())
}
