"""Face-geometry benchmark: throughput and fit quality on the two real faces the packages ship.

    .venv/bin/python -m tests.benchmarks.bench_geometry

Prints (medians):
- photos/s for landmarks + alignment + code + UV unwrap at 512 px input (target >= 20/s, 2 cores);
- mean landmark reprojection error (px at 256²) of the fitted head at the predicted code and
  pose, on held-out samples, re-detected by mediapipe;
- UV-texture re-render PSNR (dB) on the visible face region of those samples: the texture as
  unwrapped through the fitted head (the default; what the GAN trains on), and "snapped" to
  the detected landmarks, where the PSNR also pays for the geometry's fit error.
The head and calibration are fitted on the real photo plus a 24-frame album (seed 0), as
single-photo mode does. Two held-out sets: "album", 12 renders of another seed (new
expressions, turns, lights; synthetic), and "real", the photo itself mirrored, rotated by
12 degrees and scaled to 60% (real pixels, fresh detections, nothing rendered).
"""

from __future__ import annotations

import os
import time

import numpy as np


def _faces():
    from PIL import Image
    from skimage import data

    from assets.default_subject import portrait_path

    grace = Image.open(portrait_path()).convert("RGB")
    grace = np.asarray(grace.resize((512, int(512 * grace.height / grace.width))))
    return {"grace": grace, "astronaut": data.astronaut()}


def throughput(det, images, repeats: int = 20) -> tuple[float, dict]:
    from generation.face.align import align_face
    from generation.face.controls import codes_from_landmarks, fit_calibration
    from generation.face.head import fit_head
    from generation.face.unwrap import unwrap

    prepared = []
    for img in images:
        lm = det.detect(img)[0].landmarks
        prepared.append((img, fit_head(lm[None]), fit_calibration(lm[None])))
    times, stages = [], {"landmarks": [], "align": [], "code": [], "unwrap": []}
    for _ in range(repeats):
        for img, head, cal in prepared:
            t = [time.perf_counter()]
            lm = det.detect(img)[0].landmarks
            t.append(time.perf_counter())
            al = align_face(img, lm, 256)
            t.append(time.perf_counter())
            code = codes_from_landmarks(al.landmarks, cal)
            t.append(time.perf_counter())
            unwrap(al.crop, al.landmarks, head, code)
            t.append(time.perf_counter())
            times.append(t[-1] - t[0])
            for k, name in enumerate(stages):
                stages[name].append(t[k + 1] - t[k])
    return 1.0 / float(np.median(times)), {k: 1000 * float(np.median(v)) for k, v in stages.items()}


def quality(det, name: str, img: np.ndarray) -> dict:
    import cv2

    from generation.face.align import align_face
    from generation.face.controls import codes_from_landmarks, fit_calibration
    from generation.face.head import fit_head
    from generation.face.metrics import reprojection_error, rerender_psnr
    from generation.face.pose import fit_pose
    from generation.face.single_photo import synthesize_album
    from generation.face.unwrap import unwrap

    lm = det.detect(img)[0].landmarks
    head0 = fit_head(lm[None], images=[img])

    def detect_all(frames):
        out = []
        for f in frames:
            found = det.detect(f)
            if found:
                out.append((f, found[0].landmarks))
        return out

    train = [(img, lm)] + detect_all(synthesize_album(img, lm, head0, n=24, seed=0))
    train_lm = np.stack([align_face(f, p, 256).landmarks for f, p in train])
    cal = fit_calibration(train_lm)
    head = fit_head(train_lm, calibration=cal, real=np.arange(len(train)) == 0)
    h, w = img.shape[:2]
    rot = cv2.warpAffine(img, cv2.getRotationMatrix2D((w / 2, h / 2), 12, 1.0), (w, h), borderMode=cv2.BORDER_REFLECT)
    small = cv2.resize(img, (int(w * 0.6), int(h * 0.6)), interpolation=cv2.INTER_AREA)
    sets = {"album": detect_all(synthesize_album(img, lm, head0, n=12, seed=7)),
            "real": detect_all([np.ascontiguousarray(img[:, ::-1]), rot, small])}
    out = {"name": name, "train": len(train)}
    for key, held in sets.items():
        errs, psnrs, snapped = [], [], []
        for f, p in held:
            al = align_face(f, p, 256)
            code = codes_from_landmarks(al.landmarks, cal)
            pose = fit_pose(al.landmarks, head.deform(code)[:478], 256)
            errs.append(reprojection_error(head, code, pose, al.landmarks))
            uv, mask = unwrap(al.crop, al.landmarks, head, code, pose=pose)
            psnrs.append(rerender_psnr(head, uv, mask, code, pose, al.crop)[0])
            uv, mask = unwrap(al.crop, al.landmarks, head, code, pose=pose, snap=True)
            snapped.append(rerender_psnr(head, uv, mask, code, pose, al.crop)[0])
        out[key] = {"n": len(held), "reproj_px": float(np.mean(errs)), "psnr_db": float(np.median(psnrs)),
                    "psnr_snapped_db": float(np.median(snapped))}
    return out


def main() -> None:
    import cv2

    from generation.face.landmarks import LandmarkDetector

    cv2.setNumThreads(2)
    faces = _faces()
    with LandmarkDetector(max_faces=1) as det:
        rate, stages = throughput(det, list(faces.values()))
        print(f"photos/s (landmarks + alignment + code + unwrap, 512 px input): {rate:.1f}  (target >= 20); "
              "median ms per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
              + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for name, img in faces.items():
            q = quality(det, name, img)
            for key in ("album", "real"):
                r = q[key]
                print(f"{name} (fitted on {q['train']}), held-out {key} x{r['n']}: reprojection error mean "
                      f"{r['reproj_px']:.2f} px at 256², re-render PSNR median {r['psnr_db']:.1f} dB "
                      f"(snapped {r['psnr_snapped_db']:.1f} dB) on the visible face")


if __name__ == "__main__":
    main()
