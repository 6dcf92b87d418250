"""Face-geometry benchmark: throughput and fit quality on the two real faces the packages ship.

    .venv/bin/python -m tests.benchmarks.bench_geometry

Prints (medians):
- photos/s for landmarks + alignment + code + UV unwrap at 512 px input (target >= 20/s, 2 cores);
- mean landmark reprojection error (px at 256²) of the fitted head at the predicted code and
  pose, on held-out samples (a single-photo album of another seed, re-detected by mediapipe);
- UV-texture re-render PSNR (dB) on the visible face region of those samples.
The head and calibration are fitted on the real photo plus a 24-frame album (seed 0); the
held-out set is 12 frames of seed 7 plus the mirrored real photo.
"""

from __future__ import annotations

import time

import numpy as np


def _faces():
    from PIL import Image
    from skimage import data

    from assets.default_subject import portrait_path

    grace = Image.open(portrait_path()).convert("RGB")
    grace = np.asarray(grace.resize((512, int(512 * grace.height / grace.width))))
    return {"grace": grace, "astronaut": data.astronaut()}


def throughput(det, images, repeats: int = 20) -> float:
    from generation.face.align import align_face
    from generation.face.controls import codes_from_landmarks, fit_calibration
    from generation.face.head import fit_head
    from generation.face.unwrap import unwrap

    prepared = []
    for img in images:
        lm = det.detect(img)[0].landmarks
        prepared.append((img, fit_head(lm[None]), fit_calibration(lm[None])))
    times = []
    for _ in range(repeats):
        for img, head, cal in prepared:
            t0 = time.perf_counter()
            lm = det.detect(img)[0].landmarks
            al = align_face(img, lm, 256)
            code = codes_from_landmarks(al.landmarks, cal)
            unwrap(al.crop, al.landmarks, head, code)
            times.append(time.perf_counter() - t0)
    return 1.0 / float(np.median(times))


def quality(det, name: str, img: np.ndarray) -> dict:
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
    head = fit_head(train_lm, calibration=cal)
    held = detect_all(synthesize_album(img, lm, head0, n=12, seed=7)) + detect_all([np.ascontiguousarray(img[:, ::-1])])
    errs, psnrs = [], []
    for f, p in held:
        al = align_face(f, p, 256)
        code = codes_from_landmarks(al.landmarks, cal)
        pose = fit_pose(al.landmarks, head.deform(code)[:478], 256)
        errs.append(reprojection_error(head, code, pose, al.landmarks))
        uv, mask = unwrap(al.crop, al.landmarks, head, code, pose=None)
        psnrs.append(rerender_psnr(head, uv, mask, code, pose, al.crop)[0])
    return {"name": name, "train": len(train), "held_out": len(held), "reproj_px": float(np.median(errs)),
            "reproj_mean_px": float(np.mean(errs)), "psnr_db": float(np.median(psnrs)),
            "fitted": sum(v.startswith("fitted") for v in head.meta["blendshapes"].values())}


def main() -> None:
    import cv2

    from generation.face.landmarks import LandmarkDetector

    cv2.setNumThreads(2)
    faces = _faces()
    with LandmarkDetector(max_faces=1) as det:
        rate = throughput(det, list(faces.values()))
        print(f"photos/s (landmarks + alignment + code + unwrap, 512 px input): {rate:.1f}  (target >= 20)")
        for name, img in faces.items():
            q = quality(det, name, img)
            print(f"{name}: fitted on {q['train']} samples ({q['fitted']} blendshapes fitted from data), "
                  f"held-out {q['held_out']}: reprojection error median {q['reproj_px']:.2f} px "
                  f"(mean {q['reproj_mean_px']:.2f}) at 256², "
                  f"re-render PSNR median {q['psnr_db']:.1f} dB on the visible face")


if __name__ == "__main__":
    main()
