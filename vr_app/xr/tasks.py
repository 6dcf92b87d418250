"""Panda3D task sort numbers for one frame, kept in one place so XR and scene code interleave
predictably: poses are fresh before scene code runs, and the frame is submitted after rendering.

Lower sorts run first within a `task_mgr.step()`. ShowBase renders in `igLoop` at sort 50;
without ShowBase the XR display adds its own render task at RENDER.
"""

XR_POLL_EVENTS = -60   # session state changes, loss pending, recenter requests
XR_WAIT_FRAME = -50    # xrWaitFrame + xrBeginFrame: gives the predicted display time
XR_SYNC_ACTIONS = -45  # xrSyncActions: controller buttons for this frame
XR_LOCATE = -40        # xrLocateViews / xrLocateSpace -> head, eye and hand anchors
XR_INTERACT = -30      # pointer rays, select / hold / pause events
COMFORT = -20          # fade on pause, teleport, frame-time governor
SCENE_UPDATE = 0       # scene code: head rig update(t), candles, audio listener
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
