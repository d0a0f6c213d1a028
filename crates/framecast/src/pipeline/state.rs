//! Element and pipeline states.

use std::fmt;

/// The state of an element or pipeline (`GstState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// Nothing allocated, no threads.
    Null,
    /// Resources acquired (devices, sockets), nothing flowing.
    Ready,
    /// Ready to flow; the clock is not running.
    Paused,
    /// Data flows; the clock runs.
    Playing,
}

impl State {
    /// The next state one step towards `target`.
    pub fn next_towards(self, target: State) -> State {
        use State::*;
        match (self, self.cmp(&target)) {
            (_, std::cmp::Ordering::Equal) => self,
            (Null, std::cmp::Ordering::Less) => Ready,
            (Ready, std::cmp::Ordering::Less) => Paused,
            (Paused, std::cmp::Ordering::Less) => Playing,
            (Playing, std::cmp::Ordering::Greater) => Paused,
            (Paused, std::cmp::Ordering::Greater) => Ready,
            (Ready, std::cmp::Ordering::Greater) => Null,
            _ => self,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One step between adjacent states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateChange {
    /// Null -> Ready.
    NullToReady,
    /// Ready -> Paused.
    ReadyToPaused,
    /// Paused -> Playing.
    PausedToPlaying,
    /// Playing -> Paused.
    PlayingToPaused,
    /// Paused -> Ready.
    PausedToReady,
    /// Ready -> Null.
    ReadyToNull,
}

impl StateChange {
    /// The step from `from` to the adjacent `to`, if they are adjacent.
    pub fn between(from: State, to: State) -> Option<StateChange> {
        use State::*;
        Some(match (from, to) {
            (Null, Ready) => StateChange::NullToReady,
            (Ready, Paused) => StateChange::ReadyToPaused,
            (Paused, Playing) => StateChange::PausedToPlaying,
            (Playing, Paused) => StateChange::PlayingToPaused,
            (Paused, Ready) => StateChange::PausedToReady,
            (Ready, Null) => StateChange::ReadyToNull,
            _ => return None,
        })
    }

    /// Source state.
    pub fn from(self) -> State {
        match self {
            StateChange::NullToReady => State::Null,
            StateChange::ReadyToPaused | StateChange::ReadyToNull => State::Ready,
            StateChange::PausedToPlaying | StateChange::PausedToReady => State::Paused,
            StateChange::PlayingToPaused => State::Playing,
        }
    }

    /// Target state.
    pub fn to(self) -> State {
        match self {
            StateChange::NullToReady | StateChange::PausedToReady => State::Ready,
            StateChange::ReadyToPaused | StateChange::PlayingToPaused => State::Paused,
            StateChange::PausedToPlaying => State::Playing,
            StateChange::ReadyToNull => State::Null,
        }
    }

    /// Whether the step goes up (towards Playing).
    pub fn is_upward(self) -> bool {
        self.to() > self.from()
    }
}

impl fmt::Display for StateChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.from(), self.to())
    }
}

/// What a successful state change means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateChangeSuccess {
    /// Done.
    Success,
    /// Done, but the element is live and produces no data in Paused
    /// (`GST_STATE_CHANGE_NO_PREROLL`).
    NoPreroll,
}
