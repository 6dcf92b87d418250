"""The session report: PDF rendered to PNG with pdftoppm shows the SUDS plot; HTML; stored
encrypted; exported with an audit line and an export-log entry; measures and their trend."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from generation.session.record import SessionRecord
from generation.session.store import REPORT_PREFIX, save_record
from tests.conftest import OWNER_PASS

SUDS_RGB = (0x35, 0x5F, 0x8C)  # the SUDS curve's colour in report.plots


@pytest.fixture
def recorded(planned_vault, plan):
    rec = SessionRecord.new("rose", "anna")
    rec.plan = plan.to_json()
    rec.checklist = {"adult_client": True, "client_consent": True, "family_consent_therapy": True,
                     "contraindications": {"psychosis": False}, "cybersickness": "low"}
    rec.started_t, rec.ended_t = 10.0, 10.0 + 40 * 60
    for minute, value, step in ((0, 20, 0), (5, 35, 1), (12, 60, 2), (20, 80, 3), (30, 45, 3), (39, 25, 3)):
        rec.suds.append({"t": 10.0 + minute * 60, "value": value, "step": step, "source": "client"})
    rec.event(10.0, "command", "start")
    rec.event(10.0 + 21 * 60, "command", "pause")
    rec.event(10.0 + 22 * 60, "headset_off", "")
    rec.lines.append({"t": 10.0 + 19 * 60, "step": 3, "text": "I am proud of you."})
    rec.notes.append({"t": 10.0 + 20 * 60, "text": "Tearful at the first line; grounding offered."})
    rec.adverse_events.append({"t": 10.0 + 22 * 60, "text": "Brief nausea, resolved after the pause."})
    rec.ssq_before, rec.ssq_after = 7.5, 18.7
    save_record(planned_vault, rec)
    return rec


def blue_pixels(png_path) -> int:
    from PIL import Image

    img = np.asarray(Image.open(png_path).convert("RGB")).astype(int)
    return int((np.abs(img - np.array(SUDS_RGB)).sum(axis=2) < 40).sum())


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_pdf_report_renders_with_the_suds_plot(cli, recorded, tmp_path, planned_vault):
    out = tmp_path / "report.pdf"
    result = cli("session", "measure", "rose", "--pg13r", "38", "--ssq", "12", "--date", "2026-10-01")
    assert result.exit_code == 0, result.output
    cli("session", "measure", "rose", "--pg13r", "33", "--date", "2026-11-01")
    result = cli("session", "report", "rose", recorded.id, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(out), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    assert blue_pixels(pages[0]) > 200  # the SUDS curve is drawn on the first page
    assert blue_pixels(pages[1]) < 50  # the text pages carry no plot
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    for expected in ("Client A", "I am proud of you.", "Brief nausea", "Tearful", "headset off", "pause"):
        assert expected in text, expected
    from generation.vault import open_vault

    with open_vault("rose", OWNER_PASS) as vault:
        assert vault.get(f"{REPORT_PREFIX}{recorded.id}.pdf") == out.read_bytes()  # a copy stays in the vault
        exports = [e for e in vault.audit_entries() if e.action == "export"]
        assert exports[-1].detail["file"] == "report.pdf" and exports[-1].detail["kind"] == "report"
    from generation.provenance import export_log

    assert any(e["file"] == "report.pdf" for e in export_log.read().entries)


def test_html_report_has_the_plots_and_escapes_text(cli, recorded, tmp_path, planned_vault):
    from generation.session.store import load_record

    rec = load_record(planned_vault, recorded.id)
    rec.notes.append({"t": 20.0, "text": "<script>alert(1)</script>"})
    save_record(planned_vault, rec)
    out = tmp_path / "report.html"
    assert cli("session", "report", "rose", recorded.id, "-o", str(out)).exit_code == 0
    page = out.read_text()
    assert page.count("data:image/png;base64,") == 2  # SUDS and cybersickness; no measures yet
    assert "<script>" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize("args, message", [
    (("nosuch-id", "-o", "r.pdf"), "is not a session id"),
    (("20200101-0000-abcd", "-o", "r.pdf"), "no session"),
    (("{id}", "-o", "r.docx"), "must end in .pdf or .html"),
])
def test_report_errors_are_one_line(cli, recorded, tmp_path, args, message):
    args = [a.format(id=recorded.id) for a in args]
    result = cli("session", "report", "rose", *args)
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "r.pdf").exists()


def test_measures_are_range_checked(cli, planned_vault):
    result = cli("session", "measure", "rose", "--pg13r", "51")
    assert result.exit_code == 2 and "PG-13-R total must be between 10 and 50" in result.output
    assert cli("session", "measure", "rose").exit_code == 2
    assert cli("session", "measure", "rose", "--ssq", "3", "--date", "yesterday").exit_code == 2
