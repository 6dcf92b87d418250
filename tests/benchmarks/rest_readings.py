"""Where code 0 and single commands sit on a fitted subject, read four ways: on the head mesh (its own
landmarks: geometry, no detector), on her own calmest photos moved by the head's motion of each command
and re-detected (the detector on her real skin: no texture, light or eyes of ours), in the room view
re-detected (what bench_motion's fidelity ruler reads), and on her training frames replayed through the
head (the codes measured from them, shown by `deform`, against her landmarks).

Run on a subject kept by bench_motion (fitted and trained):
    python -m tests.benchmarks.rest_readings --keep DIR   (a tool, not run with the benchmarks: it needs DIR)

Why it exists (round 8, /work/notes/round8/zero8-note.md): the calibration's 0 is her 10th percentile
while the head rests on her calmest frames, so a single command from rest reads its rest offset on top
(jaw 0.8 reads 0.95 on the mesh, 1.10 in the room). Subtracting each control's rest reading from the codes
makes the ruler's commands read right on the mesh but moves every replayed frame of hers, since her codes
drive the same head: the last table shows that trade per control.

Why the photo column (round 9, /work/notes/round9/express9-note.md): the room read cheek_raise, brow_up_l and
brow_down at 0.30-0.45 per unit of code where the mesh's own landmarks move 0.56-1.05, which looked like the
room's shading losing those shapes; her own photo moved by the same motion reads them as weakly (0.36, 0.39,
0.52), so the room is to be compared with that column, not with the mesh's. Blinks and a mouth opening there
only stretch her skin (no eyeball or teeth come into view): read those from the room.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

PROBE = 0.8  # the fidelity ruler's command (expression_fidelity)
SHORT = ("jaw", "smL", "smR", "puc", "fun", "prs", "bkL", "bkR", "buL", "buR", "bdn", "chk")  # SEMANTIC[:12], 3 letters


def _pixels(verts: np.ndarray) -> np.ndarray:
    """The head's first 478 vertices (canonical metres) as frontal landmarks in pixels."""
    return (verts[:478].astype(np.float64) * [1, -1, -1] * 4000 + [1000, 1000, 0]).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", type=Path, required=True, help="a bench_motion --keep folder")
    ap.add_argument("--no-room", action="store_true", help="skip the room renders (mesh and replay only)")
    ap.add_argument("--frames", type=int, default=0, metavar="K",
                    help="also show every K-th of her training frames in the room against her own readings (~1 s each)")
    args = ap.parse_args()
    os.environ["MEMORIAL_HOME"] = str(args.keep / "home")
    from dataclasses import replace

    from assets import expression
    from assets import landmarks as L
    from assets.artifacts import KEYS, HeadModel, SubjectDataset
    from generation.face import controls as C
    from generation.face.pose import canonical
    from generation.vault import open_vault
    from tests.benchmarks.bench_motion import PASS

    vault = open_vault("her", PASS, "anna")
    ds = SubjectDataset.from_bytes(vault.get(KEYS["dataset"]))
    head = HeadModel.from_bytes(vault.get(KEYS["head"]))
    cal = C.Calibration.from_dict(ds.calibration)
    n = len(expression.SEMANTIC) - 4  # the controls before gaze

    def reading(lm: np.ndarray) -> np.ndarray:  # calibrated, unclipped, before pucker/funnel are combined
        return ((C.raw_measures(lm).astype(np.float64) - cal.neutral) / cal.range)[..., :n]

    commands = []
    for i in range(n):
        code = expression.neutral()
        code[i] = PROBE
        commands.append(code)
    mesh_rest = reading(_pixels(head.vertices))
    mesh = np.array([reading(_pixels(head.deform(c)))[i] for i, c in enumerate(commands)])
    photo = _photo_shapes(ds, head, commands, reading)
    room_rest = room = None
    if not args.no_room:
        room_rest, room = _room_readings(vault, ds, head, [expression.neutral()] + commands, reading)
    print("calibrated readings (0 = her 10th percentile), unclipped; 'shape': reading per unit of code from rest")
    print(f"'photo': her {len(photo)} calmest photos moved by each command, reading per unit of code (median)")
    print(f"{'control':14s} {'mesh: rest':>10s} {'0.8 reads':>9s} {'shape':>6s} | {'photo':>5s}"
          + ("" if room is None else f" | {'room: rest':>10s} {'0.8 reads':>9s} {'shape':>6s}"))
    for i in range(n):
        line = (f"{C.SEM_NAMES[i]:14s} {mesh_rest[i]:10.3f} {mesh[i]:9.3f} {(mesh[i] - mesh_rest[i]) / PROBE:6.2f}"
                f" | {np.nanmedian(photo[:, i]):5.2f}")
        if room is not None:
            line += f" | {room_rest[i]:10.3f} {room[i]:9.3f} {(room[i] - room_rest[i]) / PROBE:6.2f}"
        print(line)

    real = reading(ds.landmarks)
    target = canonical(ds.landmarks).astype(np.float64)
    mouth = sorted({p for pair in L.LIP_INNER_PAIRS for p in pair} | {61, 291, 0, 17, 37, 267, 84, 314})

    def replay(codes: np.ndarray) -> tuple[float, float, np.ndarray]:
        verts = np.stack([head.deform(c)[:478] for c in codes]).astype(np.float64)
        err = np.sqrt(((verts - target) ** 2).sum(-1))
        return float(np.sqrt((err ** 2).mean()) * 1000), float(np.sqrt((err[:, mouth] ** 2).mean()) * 1000), \
            np.abs(reading(_pixels_batch(verts)) - real).mean(0)

    print(f"\nher {len(ds.codes)} frames replayed (deform of their codes) against her landmarks: RMS mm all / mouth;"
          " mean |reading - hers| per control")
    print(" " * 41 + " ".join(SHORT))
    rms, rms_m, per = replay(ds.codes)
    print(f"  codes as measured          {rms:5.2f} / {rms_m:5.2f}  " + " ".join(f"{x:.2f}" for x in per))
    for i in range(n):
        if C.SEM_NAMES[i] in ("mouth_pucker", "mouth_funnel"):
            continue  # combinations of two readings: no single rest offset
        zero = np.zeros(n, np.float32)
        zero[i] = mesh_rest[i]
        shifted = C.codes_from_landmarks(ds.landmarks, replace(cal, neutral=cal.neutral + np.pad(zero, (0, 4)) * cal.range))
        shifted[:, 16:] = ds.codes[:, 16:]  # the residual as fitted
        rms, rms_m, per = replay(shifted)
        print(f"  {C.SEM_NAMES[i]:14s} from rest   {rms:5.2f} / {rms_m:5.2f}  " + " ".join(f"{x:.2f}" for x in per))
    if args.frames > 0 and not args.no_room:
        _her_frames(vault, ds, head, reading, args.frames)


def _pixels_batch(verts: np.ndarray) -> np.ndarray:
    return (verts * [1, -1, -1] * 4000 + [1000, 1000, 0]).astype(np.float32)


def _photo_shapes(ds, head, commands, reading, frames: int = 8) -> np.ndarray:
    """[frames, n] reading per unit of code of each command's own control on her calmest training photos
    (smallest codes), each moved by the head from its own code by that command (render.move_face)."""
    from generation.face.landmarks import LandmarkDetector
    from generation.face.render import move_face

    n = len(commands)
    calm = np.argsort(np.abs(ds.codes[:, :n]).sum(1))[:frames]
    out = np.full((len(calm), n), np.nan)
    with LandmarkDetector() as det:
        for k, j in enumerate(calm):
            found = det.detect(ds.crops[j])
            if not found:
                continue
            base = reading(found[0].landmarks)
            for i, command in enumerate(commands):
                moved = det.detect(move_face(head, ds.crops[j], ds.codes[j], ds.codes[j] + command, ds.pose[j]))
                if moved:
                    out[k, i] = (reading(moved[0].landmarks)[i] - base[i]) / PROBE
    return out


def _room_readings(vault, ds, head, codes, reading) -> tuple[np.ndarray, np.ndarray]:
    """(reading of the room view at codes[0], each later code's own control's reading), re-detected."""
    pose = np.median(ds.pose, axis=0).astype(np.float32)
    out = _room_views(vault, ds, head, codes, np.repeat(pose[None], len(codes), 0), reading)
    return out[0], np.array([r[i] for i, r in enumerate(out[1:])])


def _room_views(vault, ds, head, codes, poses, reading) -> np.ndarray:
    """[K, n] readings of the room view of codes [K,E], each with G's texture for its pose [K,6], re-detected."""
    import torch

    from generation.face.landmarks import LandmarkDetector
    from generation.gan import checkpoint
    from generation.gan.frames import synthesize
    from vr_app.inputs import load_bust
    from vr_app.likeness import BustCamera

    ckpt = checkpoint.load(vault, checkpoint.key_for("current"))
    g = checkpoint.generator_from(ckpt)
    mean = ((ckpt["stats"]["mean_texture"][0].permute(1, 2, 0).numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
    room = BustCamera(head, mean, load_bust(vault))
    out = []
    try:
        with LandmarkDetector() as det:
            for code, pose in zip(codes, poses):
                tex = synthesize(g, np.asarray(code, np.float32)[None], torch.zeros(1, g.z_dim),
                                 pose=np.asarray(pose, np.float32)[None, :3])[0]
                found = det.detect(room.expression(np.asarray(code, np.float32), tex))
                out.append(reading(found[0].landmarks) if found else np.full(len(reading(ds.landmarks[0])), np.nan))
    finally:
        room.close()
    return np.array(out)


def _her_frames(vault, ds, head, reading, step: int) -> None:
    """Her own (combined) expressions: every `step`-th training frame's code shown in the room and her crop
    re-detected, each against her reading of that frame (the ruler a family's view needs: single commands
    are motions she never makes alone). Slope 1 = shown at her strength; the crop row is the detector's own
    agreement with itself."""
    from generation.face.landmarks import LandmarkDetector

    idx = np.arange(0, len(ds), step)
    hers = reading(ds.landmarks[idx])
    nan = np.full(hers.shape[1], np.nan)
    with LandmarkDetector() as det:
        crop = np.array([reading(f[0].landmarks) if (f := det.detect(ds.crops[j])) else nan for j in idx])
    room = _room_views(vault, ds, head, ds.codes[idx], ds.pose[idx], reading)
    print(f"\nher {len(idx)} training frames (one in {step}): slope (correlation) of each reading against hers")
    print(" " * 24 + " ".join(f"{s:>10s}" for s in SHORT))
    for name, got in (("her crop re-detected", crop), ("the room, her code", room)):
        cells = []
        for i in range(hers.shape[1]):
            ok = np.isfinite(got[:, i])
            slope = np.polyfit(hers[ok, i], got[ok, i], 1)[0]
            cells.append(f"{slope:4.2f}({np.corrcoef(hers[ok, i], got[ok, i])[0, 1]:.2f})")
        print(f"  {name:22s}" + " ".join(cells))

if __name__ == "__main__":
    main()
