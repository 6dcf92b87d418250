"""478 3D face landmarks from mediapipe's face mesh (0.10.21 ships the model in its wheel)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_LANDMARKS = 478


@dataclass(frozen=True)
class DetectedFace:
    landmarks: np.ndarray  # [478,3] float32 image pixels; z in the same pixel scale, negative = towards camera
    bbox: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels, from the landmarks

    @property
    def size(self) -> float:
        """Face size in pixels: the larger side of the landmark box."""
        x0, y0, x1, y1 = self.bbox
        return float(max(x1 - x0, y1 - y0))


class LandmarkDetector:
    """Wraps one mediapipe FaceMesh; create once and reuse (model load is ~100 ms)."""

    def __init__(self, max_faces: int = 6, min_confidence: float = 0.5, static_images: bool = True):
        import mediapipe as mp

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=static_images, max_num_faces=max_faces, refine_landmarks=True,
            min_detection_confidence=min_confidence,
        )

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]:
        """All faces in an RGB uint8 image [H,W,3], largest first."""
        assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8, (rgb.shape, rgb.dtype)
        h, w = rgb.shape[:2]
        result = self._mesh.process(np.ascontiguousarray(rgb))
        faces = []
        for face in result.multi_face_landmarks or []:
            pts = np.array([(p.x * w, p.y * h, p.z * w) for p in face.landmark], dtype=np.float32)
            if len(pts) != N_LANDMARKS:
                continue
            bbox = (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))
            faces.append(DetectedFace(pts, bbox))
        return sorted(faces, key=lambda f: -f.size)

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> "LandmarkDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def tesselation_edges() -> np.ndarray:
    """The face-mesh topology as mediapipe ships it: [K,2] landmark index pairs."""
    import mediapipe as mp

    return np.array(sorted(mp.solutions.face_mesh.FACEMESH_TESSELATION), dtype=np.int32)
