"""OpenXR layer: headset poses land on anchor NodePaths, so scene code never touches OpenXR.

Everything talks to the runtime through the small adapter in `adapter.py`. Two
implementations: `pyopenxr_runtime.py` (a real runtime through pyopenxr and the OpenXR loader;
in the tests it runs against the C simulated runtime in tests/xr/native, loaded through
XR_RUNTIME_JSON) and `simulated.py` (in-process and scripted, for fast unit tests and
benchmarks). Entry points: `display.choose_display`, `display.run_openxr_view`,
`display.memorial_scene_builder`. Nothing here probes devices or loads PRC at import.
"""
