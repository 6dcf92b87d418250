"""Panda3D task sort numbers, all in one place so the per-frame order is easy to see.

Lower sorts run first: the clock advances, the rig and room follow it, audio listens
to where things ended up, and the overlay is drawn last.
"""

SESSION = 5  # a therapist session decides what the room shows this frame
CLOCK = 10  # playback clock advances
CONTROLS = 15  # mouse look-around
RIG = 20  # head deformation, texture streaming, eyes
ROOM = 25  # candle flicker, ambient motion
AUDIO = 30  # Audio3DManager listener/source positions
OVERLAY = 40  # subtitles and label
