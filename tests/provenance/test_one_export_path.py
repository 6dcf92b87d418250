"""Every command that writes media sends it through the provenance Exporter."""

from __future__ import annotations

import pytest

from generation.cli import _register, cli as memorial

from . import export_paths
from .exports import export_png


def test_every_command_is_classified():
    _register()
    missing = export_paths.unclassified(memorial)
    assert not missing, (f"classify these commands in tests/provenance/export_paths.py "
                         f"(NO_MEDIA with a reason, or a MEDIA_WRITERS recipe): {missing}")
    stale = [n for n in list(export_paths.NO_MEDIA) + list(export_paths.MEDIA_WRITERS)
             if n not in export_paths.command_names(memorial)]
    assert not stale, f"commands listed in export_paths.py that no longer exist: {stale}"


def test_checker_catches_unlabelled_and_unexpected_files(make_subject, tmp_path):
    from PIL import Image

    from .media import astronaut

    out = tmp_path / "out"
    out.mkdir()
    good = export_png(make_subject("rose"), out / "good.png")
    Image.fromarray(astronaut()).save(out / "raw.png")
    (out / "frames.npy").write_bytes(b"x")
    (out / "head.mtl").write_text("newmtl a\n")
    problems = export_paths.check_outputs(export_paths.files_under(out))
    assert len(problems) == 2
    assert problems[0].startswith("frames.npy: unexpected") and problems[1].startswith("raw.png: FAILED")
    assert not export_paths.check_outputs([good])


@pytest.fixture
def fitted_subject(cli, tmp_path):
    from assets.default_subject import portrait_path

    from ..conftest import consent_toml

    consent = tmp_path / "consent.toml"
    consent.write_text(consent_toml())
    assert cli("subject", "create", "rose", "--consent", consent, "--owner", "anna").exit_code == 0
    result = cli("ingest", "rose", portrait_path(), "-q")
    assert result.exit_code == 0, result.output


def _recipes():
    for name in export_paths.MEDIA_WRITERS:
        marks = [pytest.mark.slow]
        if name in export_paths.PENDING:
            marks.append(pytest.mark.xfail(strict=True, reason=export_paths.PENDING[name]))
        yield pytest.param(name, marks=marks, id=name.replace(" ", "-"))


@pytest.mark.parametrize("name", list(_recipes()))
def test_media_command_writes_only_verified_files(name, request, cli, tmp_path):
    """Runs one MEDIA_WRITERS recipe on an ingested, fitted subject and verifies every file it wrote."""
    if name not in export_paths.OWN_SUBJECT:
        request.getfixturevalue("fitted_subject")
    out = tmp_path / "out"
    out.mkdir()
    if name == "demo":  # the session's one demo run: the same command, without training a GAN again
        demo_home, out, result = request.getfixturevalue("quick_demo")
        request.getfixturevalue("monkeypatch").setenv("MEMORIAL_HOME", str(demo_home))  # verify as that installation
    else:
        result = cli(*export_paths.MEDIA_WRITERS[name](out))
    assert result.exit_code == 0, f"`memorial {name}` failed: {result.output.strip()[-500:]}"
    written = export_paths.files_under(out)
    assert written, f"`memorial {name}` wrote nothing"
    problems = export_paths.check_outputs(written)
    assert not problems, "\n".join(problems)
