use std::time::Duration;

/// How a driver answers a command that moves: either it is already done, or it
/// is under way and the runtime should ask again later.
///
/// Drivers never sleep or block waiting for a motion to end. The runtime keeps
/// a timer instead, and calls the driver's `check_motion` when it fires; a
/// `Stop` cancels the timer and stops the driver at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// The command has finished (or keeps running with no end, like SetPower).
    Done,
    /// The motion is under way; call `check_motion` after this long.
    CheckAfter(Duration),
}
