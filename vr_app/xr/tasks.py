"""XR task sort numbers, placed around the scene's own (`vr_app/tasks.py`, owned by the scene
code) so that poses are fresh before any scene task runs and the frame is submitted after the
render. Lower sorts run first within one `task_mgr.step()`. ShowBase renders in `igLoop` at
sort 50; without ShowBase the XR display adds its own render task at RENDER.
"""

from .. import tasks as scene_tasks

XR_POLL_EVENTS = -60   # session state changes, loss pending, recenter requests
XR_WAIT_FRAME = -50    # xrWaitFrame + xrBeginFrame: gives the predicted display time
XR_SYNC_ACTIONS = -45  # xrSyncActions: controller buttons for this frame
XR_LOCATE = -40        # xrLocateViews / xrLocateSpace -> head, eye and hand anchors
XR_INTERACT = -30      # pointer rays, select / hold / pause events
COMFORT = -20          # fade on pause, teleport, frame-time governor
SCENE_UPDATE = scene_tasks.CLOCK  # the scene's clock/rig/room/audio/overlay tasks follow (10..40)
RENDER = 50            # GraphicsEngine.render_frame (same sort as ShowBase's igLoop)
XR_SUBMIT = 55         # copy eye images to swapchains, xrEndFrame

ORDER = [
    ("xr-poll-events", XR_POLL_EVENTS),
    ("xr-wait-frame", XR_WAIT_FRAME),
    ("xr-sync-actions", XR_SYNC_ACTIONS),
    ("xr-locate", XR_LOCATE),
    ("xr-interact", XR_INTERACT),
    ("xr-comfort", COMFORT),
    ("scene-update", SCENE_UPDATE),
    ("render", RENDER),
    ("xr-submit", XR_SUBMIT),
]


def scene_sorts() -> dict[str, int]:
    """The scene's task sorts, to check the XR ones stay around them."""
    return {k: v for k, v in vars(scene_tasks).items() if k.isupper() and isinstance(v, int)}
