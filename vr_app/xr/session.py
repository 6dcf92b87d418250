"""The session lifecycle as a pure state machine: which OpenXR call the app owes the runtime
after each state change, and whether frames are rendered and input is read in that state."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .adapter import SessionState as S

# Transitions the OpenXR spec lets a runtime make (XrSessionState diagram). LOSS_PENDING can
# follow any running state; EXITING follows IDLE.
VALID = {
    S.UNKNOWN: {S.IDLE},
    S.IDLE: {S.READY, S.EXITING, S.LOSS_PENDING},
    S.READY: {S.SYNCHRONIZED, S.LOSS_PENDING},
    S.SYNCHRONIZED: {S.VISIBLE, S.STOPPING, S.LOSS_PENDING},
    S.VISIBLE: {S.FOCUSED, S.SYNCHRONIZED, S.LOSS_PENDING},
    S.FOCUSED: {S.VISIBLE, S.LOSS_PENDING},
    S.STOPPING: {S.IDLE, S.LOSS_PENDING},
    S.LOSS_PENDING: set(),
    S.EXITING: set(),
}


class Call(enum.Enum):
    """What the app must do next."""

    BEGIN_SESSION = "begin_session"    # READY: xrBeginSession, start the frame loop
    END_SESSION = "end_session"        # STOPPING: stop the frame loop, xrEndSession
    DESTROY = "destroy"                # EXITING / LOSS_PENDING: destroy session and instance
    PAUSE = "pause"                    # lost input focus (system menu): fade, pause the scene
    RESUME = "resume"                  # input focus back


@dataclass
class SessionLifecycle:
    state: S = S.UNKNOWN
    history: list[S] = field(default_factory=lambda: [S.UNKNOWN])
    unexpected: list[tuple[S, S]] = field(default_factory=list)
    begun: bool = False  # between xrBeginSession and xrEndSession

    def on_state(self, new: S) -> list[Call]:
        """Record the runtime's new state and return the calls it asks of the app, in order.
        The runtime is the authority: an off-spec transition is recorded, not refused."""
        old = self.state
        if new not in VALID[old]:
            self.unexpected.append((old, new))
        self.state = new
        self.history.append(new)
        calls: list[Call] = []
        if old is S.FOCUSED and new is not S.FOCUSED:
            calls.append(Call.PAUSE)
        if new is S.READY:
            calls.append(Call.BEGIN_SESSION)
            self.begun = True
        elif new is S.FOCUSED:
            calls.append(Call.RESUME)
        elif new is S.STOPPING:
            calls.append(Call.END_SESSION)
            self.begun = False
        elif new in (S.EXITING, S.LOSS_PENDING):
            self.begun = False
            calls.append(Call.DESTROY)
        return calls

    @property
    def running(self) -> bool:
        """Between xrBeginSession and xrEndSession: the frame loop must run (wait/begin/end),
        already in READY once the app has begun, so the runtime can move on to SYNCHRONIZED."""
        return self.begun

    @property
    def visible(self) -> bool:
        """Images are shown to the user; render them (still subject to FrameState.should_render)."""
        return self.state in (S.VISIBLE, S.FOCUSED)

    @property
    def focused(self) -> bool:
        """Only a focused session receives controller input."""
        return self.state is S.FOCUSED

    @property
    def finished(self) -> bool:
        return self.state in (S.EXITING, S.LOSS_PENDING)
