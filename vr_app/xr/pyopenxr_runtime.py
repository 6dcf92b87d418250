"""The adapter over a real OpenXR runtime, through pyopenxr and its bundled loader.

`probe_runtime()` is the boundary that runs here: with no runtime installed the loader
raises RuntimeUnavailableError and the probe says so in one line. The session half
(`PyOpenXRRuntime`) needs a runtime, a headset and Panda3D's current GL context (GLX on
Linux); it has not run against a real runtime on this machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import tempfile
from dataclasses import dataclass

from .adapter import (Event, FrameState, Fov, Layer, Pose, RuntimeUnavailable, SessionState, SystemInfo,
                      View, ViewConfig, XrRuntime)

APP_NAME = "Memorial VR"


@dataclass(frozen=True)
class Probe:
    available: bool
    reason: str
    runtime_name: str = ""
    system_name: str = ""


@contextlib.contextmanager
def _quiet_stderr():
    """The OpenXR loader writes its own error lines to fd 2; keep them out of the user's
    terminal and hand back the last one for the reason."""
    captured = {"text": ""}
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured["text"] = sink.read().decode("utf-8", "replace")


def probe_runtime() -> Probe:
    """Is there an OpenXR runtime with OpenGL support and a headset attached? Never raises."""
    try:
        import xr
    except Exception as exc:  # pyopenxr missing or its loader cannot load
        return Probe(False, f"pyopenxr is not usable ({exc.__class__.__name__}: {exc})")
    instance = None
    with _quiet_stderr():
        try:
            extensions = {e.extension_name.decode() if isinstance(e.extension_name, bytes) else e.extension_name
                          for e in xr.enumerate_instance_extension_properties()}
            if xr.KHR_OPENGL_ENABLE_EXTENSION_NAME not in extensions:
                return Probe(False, "the OpenXR runtime offers no OpenGL (XR_KHR_opengl_enable)")
            instance = xr.create_instance(xr.InstanceCreateInfo(
                application_info=xr.ApplicationInfo(application_name=APP_NAME, engine_name="Panda3D"),
                enabled_extension_names=[xr.KHR_OPENGL_ENABLE_EXTENSION_NAME]))
            runtime_name = xr.get_instance_properties(instance).runtime_name.decode()
            system = xr.get_system(instance, xr.SystemGetInfo(form_factor=xr.FormFactor.HEAD_MOUNTED_DISPLAY))
            system_name = xr.get_system_properties(instance, system).system_name.decode()
            return Probe(True, f"OpenXR runtime {runtime_name!r} with headset {system_name!r}",
                         runtime_name, system_name)
        except xr.RuntimeUnavailableError:
            return Probe(False, "no OpenXR runtime is installed (the loader found no active runtime)")
        except xr.FormFactorUnavailableError:
            return Probe(False, "an OpenXR runtime is installed but no headset is connected")
        except xr.XrException as exc:
            return Probe(False, f"the OpenXR runtime failed: {exc.__class__.__name__}: {exc}")
        except OSError as exc:
            return Probe(False, f"the OpenXR loader could not load a runtime: {exc}")
        finally:
            if instance is not None:
                with contextlib.suppress(Exception):
                    xr.destroy_instance(instance)


def _pose(p) -> Pose:
    return Pose((p.position.x, p.position.y, p.position.z),
                (p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w))


def _fov(f) -> Fov:
    return Fov(f.angle_left, f.angle_right, f.angle_up, f.angle_down)


class PyOpenXRRuntime(XrRuntime):
    """A real session on the current GLX context. Build it after Panda3D has opened its GL
    window or buffer, from inside a draw callback or right after the first frame, so that
    glXGetCurrentContext() returns Panda3D's context."""

    GL_SRGB8_ALPHA8 = 0x8C43
    GL_RGBA8 = 0x8058

    def __init__(self):
        import xr
        self.xr = xr
        with _quiet_stderr():
            try:
                offered = {e.extension_name.decode() if isinstance(e.extension_name, bytes) else e.extension_name
                           for e in xr.enumerate_instance_extension_properties()}
                wanted = [xr.KHR_OPENGL_ENABLE_EXTENSION_NAME]
                if xr.EXT_HAND_TRACKING_EXTENSION_NAME in offered:
                    wanted.append(xr.EXT_HAND_TRACKING_EXTENSION_NAME)
                self.instance = xr.create_instance(xr.InstanceCreateInfo(
                    application_info=xr.ApplicationInfo(application_name=APP_NAME, engine_name="Panda3D"),
                    enabled_extension_names=wanted))
                self.system_id = xr.get_system(self.instance, xr.SystemGetInfo(
                    form_factor=xr.FormFactor.HEAD_MOUNTED_DISPLAY))
            except xr.RuntimeUnavailableError as exc:
                raise RuntimeUnavailable("no OpenXR runtime is installed") from exc
            except xr.FormFactorUnavailableError as exc:
                raise RuntimeUnavailable("no headset is connected") from exc
        props = xr.get_system_properties(self.instance, self.system_id)
        views = xr.enumerate_view_configuration_views(self.instance, self.system_id,
                                                     xr.ViewConfigurationType.PRIMARY_STEREO)
        cfgs = tuple(ViewConfig(v.recommended_image_rect_width, v.recommended_image_rect_height,
                                v.max_image_rect_width, v.max_image_rect_height, v.recommended_swapchain_sample_count)
                     for v in views)
        self.system = SystemInfo(xr.get_instance_properties(self.instance).runtime_name.decode(),
                                 props.system_name.decode(), cfgs, (),  # rates unknown without XR_FB_display_refresh_rate: xrWaitFrame paces us
                                 xr.EXT_HAND_TRACKING_EXTENSION_NAME in wanted)
        self.hand_trackers = {}
        self.session = None
        self.gsg = None  # Panda3D's GSG, set by the display before the first frame
        self.swapchains = []
        self.actions = {}
        self.hand_paths = {}
        self.action_spaces = {}

    def create_session(self, reference_space: str) -> None:
        xr = self.xr
        from OpenGL import GLX  # PyOpenGL comes with pyopenxr
        xr.get_opengl_graphics_requirements_khr(self.instance, self.system_id)  # the spec requires this call
        binding = xr.GraphicsBindingOpenGLXlibKHR(
            x_display=GLX.glXGetCurrentDisplay(), glx_drawable=GLX.glXGetCurrentDrawable(),
            glx_context=GLX.glXGetCurrentContext())
        if not binding.glx_context:
            raise RuntimeUnavailable("Panda3D's GL context is not current (GLX); the OpenXR session needs it")
        self.session = xr.create_session(self.instance, xr.SessionCreateInfo(
            system_id=self.system_id, next=ctypes.cast(ctypes.pointer(binding), ctypes.c_void_p)))
        self._binding = binding
        space = xr.ReferenceSpaceType.STAGE if reference_space == "stage" else xr.ReferenceSpaceType.LOCAL
        self.space = xr.create_reference_space(self.session, xr.ReferenceSpaceCreateInfo(reference_space_type=space))
        self.view_space = xr.create_reference_space(self.session, xr.ReferenceSpaceCreateInfo(
            reference_space_type=xr.ReferenceSpaceType.VIEW))
        if self.system.hand_tracking:
            try:
                self.hand_trackers = {h: xr.create_hand_tracker_ext(self.session, xr.HandTrackerCreateInfoEXT(
                    hand=xr.HandEXT.LEFT if h == "left" else xr.HandEXT.RIGHT)) for h in ("left", "right")}
                self._locate_joints = ctypes.cast(xr.get_instance_proc_addr(self.instance, "xrLocateHandJointsEXT"),
                                                  xr.PFN_xrLocateHandJointsEXT)
            except xr.XrException:
                self.hand_trackers = {}  # offered but unavailable (no hand-tracking camera): controllers only

    def poll_events(self) -> list[Event]:
        xr, out = self.xr, []
        while True:
            try:
                buf = xr.poll_event(self.instance)
            except xr.EventUnavailable:
                return out
            kind = xr.StructureType(buf.type)
            if kind == xr.StructureType.EVENT_DATA_SESSION_STATE_CHANGED:
                ev = ctypes.cast(ctypes.byref(buf), ctypes.POINTER(xr.EventDataSessionStateChanged)).contents
                out.append(Event("session_state", SessionState(ev.state), ev.time))
            elif kind == xr.StructureType.EVENT_DATA_INSTANCE_LOSS_PENDING:
                out.append(Event("instance_loss_pending"))
            elif kind == xr.StructureType.EVENT_DATA_REFERENCE_SPACE_CHANGE_PENDING:
                out.append(Event("reference_space_change"))
            elif kind == xr.StructureType.EVENT_DATA_INTERACTION_PROFILE_CHANGED:
                out.append(Event("interaction_profile"))

    def begin_session(self) -> None:
        self.xr.begin_session(self.session, self.xr.SessionBeginInfo(
            primary_view_configuration_type=self.xr.ViewConfigurationType.PRIMARY_STEREO))

    def end_session(self) -> None:
        self.xr.end_session(self.session)

    def request_exit(self) -> None:
        self.xr.request_exit_session(self.session)

    def destroy(self) -> None:
        for tracker in self.hand_trackers.values():
            self.xr.destroy_hand_tracker_ext(tracker)
        self.hand_trackers = {}
        if self.session is not None:
            self.xr.destroy_session(self.session)
            self.session = None
        self.xr.destroy_instance(self.instance)

    def set_refresh_rate(self, hz: float) -> None:
        """Needs XR_FB_display_refresh_rate; without it the runtime's own rate stays."""

    def create_swapchains(self, layout: str, width: int, height: int, fmt: str) -> None:
        xr = self.xr
        gl_format = self.GL_SRGB8_ALPHA8 if fmt == "srgb8_alpha8" else self.GL_RGBA8
        layers, count = (2, 1) if layout == "array" else (1, 2)
        self.layout, self.size = layout, (width, height)
        for _ in range(count):
            chain = xr.create_swapchain(self.session, xr.SwapchainCreateInfo(
                usage_flags=xr.SwapchainUsageFlags.COLOR_ATTACHMENT_BIT | xr.SwapchainUsageFlags.TRANSFER_DST_BIT,
                format=gl_format, sample_count=1, width=width, height=height, face_count=1,
                array_size=layers, mip_count=1))
            images = xr.enumerate_swapchain_images(chain, xr.SwapchainImageOpenGLKHR)
            self.swapchains.append((chain, [img.image for img in images]))

    def attach_actions(self, actions, bindings) -> None:
        xr = self.xr
        self.action_set = xr.create_action_set(self.instance, xr.ActionSetCreateInfo(
            action_set_name="memorial", localized_action_set_name="Memorial", priority=0))
        self.hand_paths = {h: xr.string_to_path(self.instance, f"/user/hand/{h}") for h in ("left", "right")}
        kinds = {"boolean": xr.ActionType.BOOLEAN_INPUT, "float": xr.ActionType.FLOAT_INPUT,
                 "pose": xr.ActionType.POSE_INPUT, "vibration": xr.ActionType.VIBRATION_OUTPUT}
        for spec in actions:
            self.actions[spec.name] = (spec, xr.create_action(self.action_set, xr.ActionCreateInfo(
                action_type=kinds[spec.kind], action_name=spec.name,
                localized_action_name=spec.localized, subaction_paths=list(self.hand_paths.values()))))
        for profile, pairs in bindings.items():
            suggested = [xr.ActionSuggestedBinding(self.actions[a][1], xr.string_to_path(self.instance, p))
                         for a, p in pairs]
            try:
                xr.suggest_interaction_profile_bindings(self.instance, xr.InteractionProfileSuggestedBinding(
                    interaction_profile=xr.string_to_path(self.instance, profile), suggested_bindings=suggested))
            except xr.PathUnsupportedError:
                continue  # an older runtime without this profile
        xr.attach_session_action_sets(self.session, xr.SessionActionSetsAttachInfo(action_sets=[self.action_set]))
        for name, (spec, action) in self.actions.items():
            if spec.kind == "pose":
                for hand, path in self.hand_paths.items():
                    self.action_spaces[(name, hand)] = xr.create_action_space(self.session, xr.ActionSpaceCreateInfo(
                        action=action, subaction_path=path))

    def wait_frame(self) -> FrameState:
        fs = self.xr.wait_frame(self.session)
        return FrameState(fs.predicted_display_time, fs.predicted_display_period, bool(fs.should_render))

    def begin_frame(self) -> None:
        self.xr.begin_frame(self.session)

    def locate_views(self, time: int) -> list[View] | None:
        xr = self.xr
        state, views = xr.locate_views(self.session, xr.ViewLocateInfo(
            view_configuration_type=xr.ViewConfigurationType.PRIMARY_STEREO, display_time=time, space=self.space))
        valid = xr.ViewStateFlags.ORIENTATION_VALID_BIT | xr.ViewStateFlags.POSITION_VALID_BIT
        if (state.view_state_flags & valid) != valid:
            return None
        self._views = views
        return [View(_pose(v.pose), _fov(v.fov)) for v in views]

    def _locate(self, space, time: int) -> Pose | None:
        xr = self.xr
        loc = xr.locate_space(space, self.space, time)
        if not (loc.location_flags & xr.SpaceLocationFlags.ORIENTATION_VALID_BIT):
            return None
        return _pose(loc.pose)

    def locate_head(self, time: int) -> Pose | None:
        return self._locate(self.view_space, time)

    def sync_actions(self) -> None:
        xr = self.xr
        xr.sync_actions(self.session, xr.ActionsSyncInfo(active_action_sets=[xr.ActiveActionSet(self.action_set)]))

    def action_value(self, name: str, hand: str) -> float:
        xr = self.xr
        spec, action = self.actions[name]
        info = xr.ActionStateGetInfo(action=action, subaction_path=self.hand_paths[hand])
        if spec.kind == "boolean":
            st = xr.get_action_state_boolean(self.session, info)
        else:
            st = xr.get_action_state_float(self.session, info)
        return float(st.current_state) if st.is_active else 0.0

    def action_pose(self, name: str, hand: str, time: int) -> Pose | None:
        return self._locate(self.action_spaces[(name, hand)], time)

    def hand_joints(self, hand: str, time: int):
        xr = self.xr
        tracker = self.hand_trackers.get(hand)
        if tracker is None:
            return None
        joints = (xr.HandJointLocationEXT * xr.HAND_JOINT_COUNT_EXT)()
        locations = xr.HandJointLocationsEXT(joint_count=xr.HAND_JOINT_COUNT_EXT, joint_locations=joints)
        info = xr.HandJointsLocateInfoEXT(base_space=self.space, time=time)
        if self._locate_joints(tracker, ctypes.byref(info), ctypes.byref(locations)) < 0 or not locations.is_active:
            return None
        return [_pose(j.pose) for j in joints]

    def end_frame(self, time: int, layer: Layer | None) -> None:
        """Copy each eye into its swapchain image (per eye: two swapchains; array: one image with
        two layers, acquired once), then submit one projection layer."""
        xr = self.xr
        layers = []
        if layer is not None:
            array = self.layout == "array"
            proj_views = []
            for chain_index, (chain, images) in enumerate(self.swapchains):
                index = xr.acquire_swapchain_image(chain, xr.SwapchainImageAcquireInfo())
                xr.wait_swapchain_image(chain, xr.SwapchainImageWaitInfo(timeout=xr.INFINITE_DURATION))
                for eye in ((0, 1) if array else (chain_index,)):
                    _copy_texture(self.gsg, layer.images[eye], images[index], eye if array else None, self.size)
                xr.release_swapchain_image(chain, xr.SwapchainImageReleaseInfo())
            for eye in (0, 1):
                chain = self.swapchains[0 if array else eye][0]
                proj_views.append(xr.CompositionLayerProjectionView(
                    pose=self._views[eye].pose, fov=self._views[eye].fov,
                    sub_image=xr.SwapchainSubImage(swapchain=chain, image_rect=xr.Rect2Di(
                        extent=xr.Extent2Di(*self.size)), image_array_index=eye if array else 0)))
            layers.append(ctypes.byref(xr.CompositionLayerProjection(space=self.space, views=proj_views)))
        xr.end_frame(self.session, xr.FrameEndInfo(display_time=time,
                                                   environment_blend_mode=xr.EnvironmentBlendMode.OPAQUE,
                                                   layers=layers))


def _copy_texture(gsg, tex, gl_image: int, layer: int | None, size) -> None:
    """GPU copy of Panda3D's eye texture into the swapchain image (GL 4.3 glCopyImageSubData);
    layer None: a plain 2D image, else that layer of a 2D array image."""
    from OpenGL import GL
    src = tex.prepare_now(0, gsg.get_prepared_objects(), gsg).get_native_id() if gsg is not None else 0
    if not src:
        raise RuntimeUnavailable("the eye texture has no GL id yet (render to texture with RTM_bind_or_copy)")
    w, h = size
    target = GL.GL_TEXTURE_2D if layer is None else GL.GL_TEXTURE_2D_ARRAY
    GL.glCopyImageSubData(src, GL.GL_TEXTURE_2D, 0, 0, 0, 0, gl_image, target, 0, 0, 0, layer or 0, w, h, 1)
