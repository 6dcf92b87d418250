"""OpenXR layer: headset poses land on anchor NodePaths, so scene code never touches OpenXR.

Everything below talks to the runtime through the small adapter in `adapter.py`; the real
binding (`pyopenxr_runtime.py`) and the in-process simulated runtime (`simulated.py`) both
implement it. Import the parts you need; nothing here probes devices or loads PRC at import.
"""
