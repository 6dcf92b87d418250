"""Mesh exports (.glb, .obj): watermarked texture, AIGC metadata, hash vouched for by the export log."""

from __future__ import annotations

import numpy as np
import pytest

from assets.errors import MemorialError
from generation.provenance import Exporter, metadata, verify_file

from .media import astronaut


def _write_textured_mesh(path, texture):
    import trimesh
    from PIL import Image

    mesh = trimesh.creation.box()
    uv = np.random.default_rng(0).uniform(0, 1, (len(mesh.vertices), 2))
    material = trimesh.visual.material.SimpleMaterial(image=Image.fromarray(texture))
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    mesh.export(str(path))


def test_glb_export_verifies_by_texture_watermark_and_logged_hash(make_subject, tmp_path):
    vault = make_subject("rose")
    ex = Exporter(vault, command="subject fit", kind="mesh")
    path = tmp_path / "head.glb"
    _write_textured_mesh(path, ex.mark_texture(astronaut()))
    ex.finalize(path)
    assert metadata.read_glb(path)["AIGC"]["ProduceID"] == ex.content_id
    report = verify_file(path)
    assert report.ok, report.line()
    assert report.credentials == "not-applicable" and report.watermark_id == ex.content_id
    # any change to the file breaks the logged hash
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0x01
    changed = tmp_path / "changed.glb"
    changed.write_bytes(bytes(raw))
    assert not verify_file(changed).ok


def test_obj_export_and_its_texture(make_subject, tmp_path):
    vault = make_subject("rose")
    ex = Exporter(vault, command="subject fit", kind="mesh")
    path = tmp_path / "head.obj"
    _write_textured_mesh(path, ex.mark_texture(astronaut()))
    textures = [p for p in tmp_path.iterdir() if p.suffix == ".png"]
    assert textures
    ex.finalize(path)
    for texture in textures:
        ex.finalize(texture)
    assert verify_file(path).ok, verify_file(path).line()
    assert all(verify_file(t).ok for t in textures)


def test_mesh_with_an_unmarked_texture_is_refused(make_subject, tmp_path):
    vault = make_subject("rose")
    ex = Exporter(vault, command="subject fit", kind="mesh")
    path = tmp_path / "head.glb"
    _write_textured_mesh(path, astronaut())
    with pytest.raises(MemorialError, match="mark_image"):
        ex.finalize(path)
