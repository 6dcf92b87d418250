"""The memorial room runtime (Panda3D): head rig, scene assembly, spatial audio, displays, video.

Imports no torch: it runs from precomputed artifacts (HeadModel, FrameSequence, ExpressionTrack).
Nothing here touches Panda3D at import time; callers pass render, window, camera and task_mgr in.
"""
