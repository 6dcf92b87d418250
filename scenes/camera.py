"""The clip range of every 3D view (window, offscreen, headset eyes), in metres.

The visitor sits 0.9 m from the face: a near plane past that (ShowBase's default is 1 m) cuts the
face off and leaves the inside of the back of the head in view."""

NEAR = 0.05
FAR = 100.0
