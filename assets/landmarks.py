"""Named mediapipe face-mesh landmark ids (478 = 468 mesh points + 10 iris points), shared by the
offline geometry code and the runtime rig, which maps each id to a head vertex."""

N_MESH = 468  # landmarks 0..467 are mesh vertices, 468..477 the irises

# Subject's left = image right = +x in the model frame. mediapipe "LEFT_*" is the subject's left.
EYE_L = dict(outer=263, inner=362, upper=(386, 385, 387), lower=(374, 380, 373), iris=473, iris_ring=(474, 475, 476, 477))
EYE_R = dict(outer=33, inner=133, upper=(159, 158, 160), lower=(145, 153, 144), iris=468, iris_ring=(469, 470, 471, 472))
BROW_L = (336, 296, 334, 293, 300)  # inner to outer
BROW_R = (107, 66, 105, 63, 70)
MOUTH_CORNER_L, MOUTH_CORNER_R = 291, 61
LIP_INNER_CORNER_L, LIP_INNER_CORNER_R = 308, 78
LIP_UPPER_OUTER, LIP_UPPER_INNER, LIP_LOWER_INNER, LIP_LOWER_OUTER = 0, 13, 14, 17
LIP_INNER_PAIRS = ((13, 14), (82, 87), (312, 317), (81, 178), (311, 402))  # upper, lower inner-lip points
CHEEK_L, CHEEK_R = (425, 280), (205, 50)
CHIN, NOSE_TIP, NOSE_BRIDGE, SUBNASALE, FOREHEAD = 152, 1, 168, 2, 10
# Points that move little with expression: the pose and the canonical frame are fitted on these.
RIGID = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 33, 133, 263, 362, 127, 356, 234, 454, 93, 323, 162, 389, 21, 251)

# The rims of the eye openings, in ring order from the outer corner (the rig's eyelids follow them).
EYE_RING_L = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
EYE_RING_R = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
FOREHEAD_MID = (151, 9)  # between the brows and the hairline: plain skin for a skin-tone sample
