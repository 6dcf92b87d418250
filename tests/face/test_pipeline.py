import numpy as np

from assets import expression
from assets.artifacts import SubjectDataset
from generation.face.align import align_face
from generation.face.pipeline import fit_subject, process_face


def test_fit_subject_then_process_fills_a_dataset_row(faces):
    crops, lms = [], []
    for img, lm in faces.values():
        al = align_face(img, lm)
        crops.append(al.crop)
        lms.append(al.landmarks)
    subject = fit_subject(np.stack(lms), np.stack(crops))
    samples = [process_face(img, lm, subject) for img, lm in faces.values()]
    ds = SubjectDataset(
        crops=np.stack([s.crop for s in samples]), landmarks=np.stack([s.landmarks for s in samples]),
        pose=np.stack([s.pose for s in samples]), codes=np.stack([s.code for s in samples]),
        uv=np.stack([s.uv for s in samples]), mask=np.stack([s.mask for s in samples]),
        quality=np.ones(2, np.float32), synthetic=np.zeros(2, bool), source_ids=["a", "b"],
        calibration=subject.calibration.to_dict())
    back = SubjectDataset.from_bytes(ds.to_bytes())
    assert back.calibration == subject.calibration.to_dict()
    assert all(s.mask.mean() > 40 for s in samples)
    # the astronaut smiles with open lips, Grace does not: the shared calibration tells them apart
    smile = expression.index("mouth_smile_l")
    assert samples[1].code[smile] > samples[0].code[smile]
    assert abs(samples[0].pose[0]) < 15 and abs(samples[1].pose[0]) < 15


def test_stored_calibration_dict_works_directly(faces):
    from generation.face.controls import codes_from_landmarks, fit_calibration

    lm = faces["astronaut"][1]
    cal = fit_calibration(np.stack([lm, faces["grace"][1]]))
    assert np.allclose(codes_from_landmarks(lm, cal.to_dict()), codes_from_landmarks(lm, cal), atol=1e-4)


def test_album_rejects_an_empty_request(faces, grace_head):
    import pytest

    from generation.face.errors import GeometryError
    from generation.face.single_photo import synthesize_album

    img, lm = faces["grace"]
    with pytest.raises(GeometryError, match="at least 1"):
        synthesize_album(img, lm, grace_head, n=0)

