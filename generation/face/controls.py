"""Expression controls measured geometrically from 478 landmarks, and their calibration.

Every measure is taken on `pose.canonical` landmarks (metres in the face frame), so it
does not depend on head pose, image size or distance, then divided by the eye-centre
distance where it is a length. A `Calibration` turns raw measures into the code of
`assets.expression`: (raw - neutral) / range, clipped, per subject; the PCA entries
carry the landmark motion that the semantic controls do not explain.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from assets import landmarks as L
from assets import expression
from .errors import GeometryError, check_landmarks
from .pose import IOD_M, canonical

N_SEM = len(expression.SEMANTIC)
SEM_NAMES = tuple(c.name for c in expression.SEMANTIC)
GAZE_DEG = 30.0  # gaze code 1 = 30 degrees
EYEBALL_RADIUS_M = 0.012
# The share of an eye's turn that the face-mesh detector's iris point reads: it rides with the lids'
# contour, so an eye turned 15 degrees up reads as ~6.6. Measured on the shared clip's head as the room
# shows it (eyeballs turned -22.5..+22.5 degrees, landmarks re-detected): pitch read 0.50 (left eye) and
# 0.37 (right) of the turn, yaw 0.55 and 0.52; on her real frames the detected upper lid moves twice as
# far as the detected iris, where a real upper lid rides about as far as the eye below it.
GAZE_READ = np.array([0.53, 0.44, 0.53, 0.44])  # gaze_yaw_l, gaze_pitch_l, gaze_yaw_r, gaze_pitch_r

# Generic range of each raw measure (raw units below), used when a subject has too few
# samples to calibrate from. Chosen so a full, clear expression on a real face reads ~1.
GENERIC_RANGE = {
    "jaw_open": 0.45, "mouth_smile_l": 0.10, "mouth_smile_r": 0.10, "mouth_pucker": 0.22,
    "mouth_funnel": 0.20, "mouth_press": 0.10, "blink_l": 0.28, "blink_r": 0.28,
    "brow_up_l": 0.10, "brow_up_r": 0.10, "brow_down": 0.10, "cheek_raise": 0.06,
    "gaze_yaw_l": 1.0, "gaze_pitch_l": 1.0, "gaze_yaw_r": 1.0, "gaze_pitch_r": 1.0,
}
MIN_SAMPLES_CALIBRATED = 8  # below this, neutral = median and ranges are generic
MIN_SAMPLES_PCA = 12
MIN_PCA_STDDEV_M = 1e-4  # 0.1 mm


def _dist(p, a, b):
    return np.linalg.norm(p[..., a, :] - p[..., b, :], axis=-1)


def _eye_open(p, eye):
    """Mean vertical lid gap over the eye width (0 = closed, ~0.3 open); vertical only, as the
    lids' depth difference does not close."""
    gaps = np.mean([np.maximum(p[..., u, 1] - p[..., lo, 1], 0) for u, lo in zip(eye["upper"], eye["lower"])], axis=0)
    return gaps / _dist(p, eye["outer"], eye["inner"])


def _gaze(p, eye):
    """Iris centre relative to the eye-corner midpoint, as yaw and pitch codes (deg / 30)."""
    centre = 0.5 * (p[..., eye["outer"], :] + p[..., eye["inner"], :])
    d = (p[..., eye["iris"], :] - centre) / EYEBALL_RADIUS_M
    yaw = np.degrees(np.arcsin(np.clip(d[..., 0], -1, 1))) / GAZE_DEG
    pitch = np.degrees(np.arcsin(np.clip(d[..., 1], -1, 1))) / GAZE_DEG
    return yaw, pitch


def raw_measures(landmarks: np.ndarray) -> np.ndarray:
    """The 16 raw geometric measures [16] or [N,16], in the order of expression.SEMANTIC.

    Lengths are in units of the eye-centre distance; each grows with its control.
    """
    c = canonical(landmarks).astype(np.float64) / IOD_M  # [...,478,3] in IODs
    y = c[..., 1]
    gap = np.mean([_dist(c, u, lo) for u, lo in L.LIP_INNER_PAIRS], axis=0)
    width = _dist(c, L.MOUTH_CORNER_L, L.MOUTH_CORNER_R)
    thickness = _dist(c, L.LIP_UPPER_OUTER, L.LIP_UPPER_INNER) + _dist(c, L.LIP_LOWER_INNER, L.LIP_LOWER_OUTER)

    def smile(corner, side):  # against the nose base, which the jaw does not move
        base = c[..., L.SUBNASALE, :]
        return (y[..., corner] - base[..., 1]) + 0.5 * side * (c[..., corner, 0] - base[..., 0])

    def brow(b, eye):
        centre = 0.5 * (y[..., eye["outer"]] + y[..., eye["inner"]])
        return y[..., list(b)].mean(-1) - centre

    brow_l, brow_r = brow(L.BROW_L, L.EYE_L), brow(L.BROW_R, L.EYE_R)
    inner_brows = _dist(c, L.BROW_L[0], L.BROW_R[0])
    eye_y = 0.5 * (y[..., L.EYE_L["lower"][0]] + y[..., L.EYE_R["lower"][0]])
    cheeks = y[..., list(L.CHEEK_L + L.CHEEK_R)].mean(-1)
    gyl, gpl = _gaze(c * IOD_M, L.EYE_L)
    gyr, gpr = _gaze(c * IOD_M, L.EYE_R)
    out = [
        gap,  # jaw_open: inner-lip gap
        smile(L.MOUTH_CORNER_L, 1.0), smile(L.MOUTH_CORNER_R, -1.0),  # corner up and out
        -width,  # mouth_pucker: the mouth narrows (combined with opening in _semantic_codes)
        gap,  # mouth_funnel: the lips part (combined with narrowing in _semantic_codes)
        -thickness,  # mouth_press: visible lip height shrinks
        -_eye_open(c, L.EYE_L), -_eye_open(c, L.EYE_R),  # blink: lids close
        brow_l, brow_r,  # brow_up: brow above the eye line
        -(0.5 * (brow_l + brow_r)) - 0.5 * inner_brows,  # brow_down: lower and drawn together
        cheeks - eye_y,  # cheek_raise: cheeks climb towards the lower lids
        gyl, gpl, gyr, gpr,
    ]
    return np.stack(out, axis=-1).astype(np.float32)


GAZE_SLICE = slice(12, 16)


@dataclass
class Calibration:
    """Per-subject neutral and range of each raw measure, plus the residual-motion PCA."""

    neutral: np.ndarray  # [16] raw value of the relaxed face
    range: np.ndarray  # [16] raw change that reads as code 1
    mean_shape: np.ndarray  # [478,3] canonical metres, the neutral-ish mean
    regression: np.ndarray  # [16,478*3] landmark offset per unit of each semantic code
    components: np.ndarray  # [8,478*3] unit PCA directions (zero rows when data is short)
    stddev: np.ndarray  # [8] metres along each component
    n_samples: int = 0
    method: dict = field(default_factory=dict)  # control -> "calibrated" | "generic"
    # [4] gaze codes that the head's rest eyes read (`gaze_zero_at`), subtracted so that they read 0
    gaze_zero: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))

    def to_dict(self) -> dict:
        """JSON-safe (lists of floats) for SubjectDataset.calibration."""
        r = lambda a, d=6: np.round(np.asarray(a, np.float64), d).tolist()  # noqa: E731
        return {"version": 1, "names": list(SEM_NAMES), "neutral": r(self.neutral), "range": r(self.range),
                "mean_shape": r(self.mean_shape, 7), "regression": r(self.regression, 7),
                "components": r(self.components, 6), "stddev": [float(v) for v in self.stddev],
                "n_samples": int(self.n_samples), "method": dict(self.method), "gaze_zero": r(self.gaze_zero)}

    @classmethod
    def from_dict(cls, d: dict) -> "Calibration":
        if not isinstance(d, dict) or d.get("version") != 1 or d.get("names") != list(SEM_NAMES):
            raise GeometryError("expression calibration is missing or from another version; re-run `memorial subject fit`")
        f = lambda k: np.asarray(d[k], dtype=np.float32)  # noqa: E731
        return cls(f("neutral"), f("range"), f("mean_shape"), f("regression"), f("components"), f("stddev"),
                   int(d["n_samples"]), dict(d["method"]), np.asarray(d.get("gaze_zero", np.zeros(4)), np.float32))


_I = {n: i for i, n in enumerate(SEM_NAMES)}


def _semantic_codes(raw: np.ndarray, cal_neutral: np.ndarray, cal_range: np.ndarray,
                    gaze_zero: np.ndarray | None = None) -> np.ndarray:
    """Raw measures [N,16] -> semantic codes [N,16].

    Narrowing and parting of the lips are measured separately, then split: pucker is
    narrowing with closed lips, funnel is narrowing with parted lips (so a plain jaw drop,
    which parts the lips without narrowing them, reads as neither). Gaze fades to 0 while
    an eye is closing, as the iris is then hidden and mediapipe's iris estimate drifts.
    """
    codes = (raw - cal_neutral) / cal_range
    if gaze_zero is not None:
        codes[:, GAZE_SLICE] -= gaze_zero
    codes = np.clip(codes, expression.LOW[:N_SEM], expression.HIGH[:N_SEM])
    narrow, parted = codes[:, _I["mouth_pucker"]].copy(), codes[:, _I["mouth_funnel"]].copy()
    codes[:, _I["mouth_funnel"]] = np.minimum(narrow, parted)
    codes[:, _I["mouth_pucker"]] = narrow * (1 - parted)
    for side, (yaw, pitch) in (("l", (12, 13)), ("r", (14, 15))):
        keep = np.clip((0.8 - codes[:, _I[f"blink_{side}"]]) / 0.3, 0, 1)
        codes[:, yaw] *= keep
        codes[:, pitch] *= keep
    return codes


def fit_calibration(landmark_sets: np.ndarray, weights: np.ndarray | None = None) -> Calibration:
    """Calibrate from a subject's samples [N,478,3] (pixels of any frame, any pose).

    Few samples (< 8): neutral = median measure, generic ranges. Otherwise neutral = 10th
    percentile and range = 97th percentile minus neutral, never below half the generic
    range (so a subject who never frowns is not scaled up to a full frown). Blink's range is
    the neutral eye opening (fully closed is always 1); gaze is degrees / 30 of the eye's turn,
    its reading divided by the share of a turn the detector reads (GAZE_READ).
    """
    lm = check_landmarks(landmark_sets, batch=True)
    n = len(lm)
    raw = raw_measures(lm).astype(np.float64)  # [N,16]
    generic = np.array([GENERIC_RANGE[k] for k in SEM_NAMES])
    calibrated = n >= MIN_SAMPLES_CALIBRATED
    if calibrated:
        neutral = np.percentile(raw, 10, axis=0)
        rng = np.maximum(np.percentile(raw, 97, axis=0) - neutral, 0.5 * generic)
    else:
        neutral = np.median(raw, axis=0)
        rng = generic.copy()
    neutral[GAZE_SLICE] = np.median(raw[:, GAZE_SLICE], axis=0)
    rng[GAZE_SLICE] = GAZE_READ  # code 1 = a 30 degree turn, as the detector reads one
    for i in (SEM_NAMES.index("blink_l"), SEM_NAMES.index("blink_r")):
        rng[i] = max(-neutral[i], 0.05)  # closing the lid from the neutral opening to zero
    method = {k: ("calibrated" if calibrated else "generic") for k in SEM_NAMES}
    for k in SEM_NAMES[12:]:
        method[k] = "iris offset from the eye centre, degrees / 30 over the detector's reading of a turn, neutral subtracted"

    shapes = canonical(lm).reshape(n, -1).astype(np.float64)  # [N,1434]
    codes = _semantic_codes(raw, neutral, rng)  # [N,16]
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    rest = np.argsort(np.abs(codes[:, :12]).sum(1))[: max(1, n // 4)]  # the calmest quarter
    mean_shape = shapes[rest].mean(0)
    offsets = shapes - mean_shape
    regression = np.zeros((N_SEM, shapes.shape[1]))
    components = np.zeros((expression.N_PCA, shapes.shape[1]))
    stddev = np.zeros(expression.N_PCA)
    if n >= MIN_SAMPLES_CALIBRATED:
        # Gaze enters the fit as the detector reads it (its offset in degrees / 30, unscaled), so that the
        # ridge pulls on it as before and the other shapes, the residual's components and the rest face do
        # not move with the gaze's scale; its rows are then rescaled to the codes.
        read = detector_scale(rng)
        a = codes * read * np.sqrt(w)[:, None]
        regression = np.linalg.lstsq(a.T @ a + 1e-2 * np.eye(N_SEM), a.T @ (offsets * np.sqrt(w)[:, None]), rcond=None)[0]
        regression *= read[:, None]
    if n >= MIN_SAMPLES_PCA:
        resid = offsets - codes @ regression
        resid = resid - resid.mean(0)
        _, sv, vt = np.linalg.svd(resid, full_matrices=False)
        k = min(expression.N_PCA, len(sv))
        sd = sv[:k] / np.sqrt(max(n - 1, 1))
        k = int(np.sum(sd > MIN_PCA_STDDEV_M))  # below a few microns it is numerical noise
        components[:k] = vt[:k]
        stddev[:k] = sd[:k]
    return Calibration(neutral.astype(np.float32), rng.astype(np.float32), mean_shape.reshape(478, 3).astype(np.float32),
                       regression.astype(np.float32), components.astype(np.float32), stddev.astype(np.float32), n, method)


def detector_scale(cal_range: np.ndarray) -> np.ndarray:
    """[16] what a code is worth in the detector's own reading: 1, but for gaze the share of a turn the
    detector reads (the calibration's gaze range, GAZE_READ). Fits that must not move with the gaze's
    scale (the regression, the rest-face pick) weigh codes by it."""
    read = np.ones(N_SEM)
    read[GAZE_SLICE] = np.asarray(cal_range, np.float64)[GAZE_SLICE]
    return read


def gaze_zero_at(cal: Calibration, rest: np.ndarray) -> Calibration:
    """`cal` with gaze 0 where the eyes of a rest face `rest` [478,3] (canonical metres: the head's) look.

    The calibration's gaze 0 is her median frame's, but the head's rest eyes are those of her calmest
    frames, and the room's eyeballs turn from them: on the shared clip they sat 2 degrees up (0.15 of a
    code), so every look up read that much too high. Only the gaze codes shift (fading with them as the
    eye closes); the residual (PCA codes) is still taken from the unshifted ones, so it does not move."""
    raw = raw_measures(np.asarray(rest, np.float32)).astype(np.float64)  # the measures are frame-equivariant
    zero = (raw[GAZE_SLICE] - cal.neutral[GAZE_SLICE]) / cal.range[GAZE_SLICE]
    return replace(cal, gaze_zero=zero.astype(np.float32))


def codes_from_landmarks(landmarks: np.ndarray, calibration: Calibration | dict) -> np.ndarray:
    """Expression code [E] for [478,3] landmarks, or [N,E] for [N,478,3]; clipped to the ranges."""
    cal = Calibration.from_dict(calibration) if isinstance(calibration, dict) else calibration
    lm = check_landmarks(landmarks)
    single = lm.ndim == 2
    lm = lm[None] if single else lm
    raw = raw_measures(lm).astype(np.float64)
    sem = _semantic_codes(raw, cal.neutral, cal.range)  # [N,16] as the regression was fitted
    shapes = canonical(lm).reshape(len(lm), -1).astype(np.float64)
    resid = shapes - cal.mean_shape.reshape(-1) - sem @ cal.regression
    if np.any(cal.gaze_zero):
        sem = _semantic_codes(raw, cal.neutral, cal.range, cal.gaze_zero)
    proj = resid @ cal.components.T  # [N,8]
    pca = np.where(cal.stddev > 1e-9, proj / np.maximum(cal.stddev, 1e-9), 0.0)
    out = expression.clip(np.concatenate([sem, pca], axis=1).astype(np.float32))
    return out[0] if single else out
