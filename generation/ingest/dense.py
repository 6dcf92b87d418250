"""More video frames for the face texture: every frame near the subject's verified samples.

Ingest keeps a video frame only when its expression or angle is new (40 of a 6 s talking
clip's 150 frames). That is right for expression coverage and for the head's calibration, but
the texture learns from every frame it sees: on the shared clip a texture predicted from the
code was 1.3 dB closer to her held-out frames when fitted on all 150 frames than on the 40
kept ones, and the plain mean texture 0.8 dB closer. So `subject fit` re-reads each stored
video and adds the frames it skipped, as long as they sit in the subject's own track: within
`TRACK_S` of a sample that ingest verified as the subject, in the same shot (counted as
ingest counts shots), with the face where that sample's face was. Nothing here decides
identity anew.
"""

from __future__ import annotations

import numpy as np

from .records import Sample, load_records
from .sampling import ShotCounter

TRACK_S = 1.0  # a frame this close in time to a verified sample belongs to its track...
TRACK_SHIFT = 0.5  # ...when its face centre is within this share of that sample's face width
CROP = 256  # the aligned crop kept per frame (what build_dataset reads)


def dense_samples(vault, have: set[str], max_per_video: int = 300, progress=None) -> list[tuple[str, Sample]]:
    """(source id, Sample) for the stored videos' frames that ingest did not keep.

    `have`: source ids already in the dataset (skipped). At most `max_per_video` frames per
    video, evenly spread. A record whose original is not stored adds nothing."""
    from ..face.align import align_face
    from ..face.landmarks import LandmarkDetector
    from ..vault.store import ORIGINAL_PREFIX
    from .decode import DecodeError, iter_frames
    from .originals import read_original
    from .pipeline import DETECT_MAX_SIDE

    out: list[tuple[str, Sample]] = []
    for rec in load_records(vault):
        key = ORIGINAL_PREFIX + rec.sha
        anchors = [s for s in rec.samples if "time" in s.info and s.info.get("bbox") and not s.info.get("synthetic")]
        if not rec.media_type.startswith("video/") or not anchors or not vault.exists(key):
            continue
        frames = int(rec.meta.get("frames") or 0)
        stride = max(1, int(np.ceil(frames / max_per_video))) if frames else 1
        times = np.array([s.info["time"] for s in anchors])
        anchor_shots = np.array([s.info.get("shot", 1) for s in anchors])
        shots = ShotCounter()
        try:
            with LandmarkDetector(max_faces=1, static_images=False) as det:
                for vf in iter_frames(read_original(vault, key)):
                    shots.update(vf.thumbnail())
                    shot = shots.shots
                    sid = f"{rec.source}#{vf.index}"
                    if vf.index % stride or sid in have:
                        continue
                    near = np.where(anchor_shots == shot, np.abs(times - vf.time), np.inf)
                    k = int(np.argmin(near))
                    if near[k] > TRACK_S:
                        continue
                    rgb = vf.rgb(DETECT_MAX_SIDE)
                    found = det.detect(rgb)
                    anchor = anchors[k]
                    if not found or not _same_place(found[0].bbox, anchor.info["bbox"]):
                        continue
                    al = align_face(rgb, found[0].landmarks, CROP)
                    info = {"frame": vf.index, "time": round(vf.time, 3), "dense": True, "synthetic": False,
                            "colour": anchor.info.get("colour", True), "near": anchor.info.get("frame")}
                    out.append((sid, Sample(al.crop, al.landmarks.astype(np.float32), anchor.quality, info)))
                    if progress is not None:
                        progress.update(1)
        except DecodeError:
            continue  # ingest read it once; a video that no longer decodes adds no extra frames
    return out


def _same_place(box, anchor_box) -> bool:
    """Face centre within TRACK_SHIFT face widths of the verified sample's face centre."""
    cx, cy = 0.5 * (box[0] + box[2]), 0.5 * (box[1] + box[3])
    ax, ay = 0.5 * (anchor_box[0] + anchor_box[2]), 0.5 * (anchor_box[1] + anchor_box[3])
    width = max(anchor_box[2] - anchor_box[0], 1.0)
    return float(np.hypot(cx - ax, cy - ay)) <= TRACK_SHIFT * width
