"""The "one export path" check, reusable: which `memorial` commands write media, how to run each
in a test, and a checker that every media file they wrote carries its labels.

When a command is added, classify it here: either it writes no file that shows or voices the
person (say why), or give a recipe that runs it into a folder. `test_one_export_path.py` fails
for any unclassified command, then runs every recipe and verifies each media file written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

# Anything a person could open to see or hear the likeness.
MEDIA_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".png", ".jpg", ".jpeg", ".webp", ".gif",
                  ".bmp", ".tif", ".tiff", ".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus",
                  ".glb", ".gltf", ".obj", ".fbx", ".usd", ".usdz", ".ply", ".stl"}
# Files that may sit beside an export without carrying labels themselves (OBJ's material file).
SIDE_FILES = {".mtl"}

NO_MEDIA: dict[str, str] = {
    "converse": "stores the reply as a track in the vault",
    "drive": "stores an expression track in the vault",
    "memory add": "stores a written memory (text) in the vault",
    "memory list": "prints memories",
    "memory remove": "removes a memory from the vault",
    "evaluate": "prints figures",
    "frames": "stores expression frames in the vault",
    "ingest": "stores originals and the dataset in the vault",
    "lipsync train": "stores a model in the vault",
    "say": "stores a track in the vault (--audio is an input)",
    "train": "stores a checkpoint in the vault",
    "verify": "reads files only",
    "view": "shows a window (labelled live by the viewer), writes no file",
    "subject audit": "prints the audit log",
    "subject consent": "stores a consent record",
    "subject consent-example": "prints a template",
    "subject create": "creates a vault",
    "subject delete": "deletes a vault",
    "subject export-memories": "gives the family back their own original recordings, which are not "
                               "AI-generated and must not be labelled as such (audited in the vault)",
    "subject list": "prints names",
    "subject member add": "changes key slots",
    "subject member list": "prints members",
    "subject member remove": "changes key slots",
    "subject passphrase": "changes a key slot",
    "subject revoke": "changes the consent record",
    "subject roles": "prints the permission matrix",
    "subject show": "prints a summary",
    "session console": "serves the live console; the client's mirror frames stay in memory",
    "session list": "prints session ids",
    "session measure": "stores questionnaire totals",
    "session plan": "stores a session plan",
    "session plan-example": "prints a template",
    "session report": "a PDF/HTML report with text and plots, no likeness; hashed into the export log "
                      "and the audit log by provenance.exporter.export_document",
}

# name -> function(out_dir) -> argv; run with a subject "rose" that has been ingested and fitted
# (except the commands in OWN_SUBJECT, which bring their own).
Recipe = Callable[[Path], list[str]]
MEDIA_WRITERS: dict[str, Recipe] = {
    "render": lambda out: ["render", "rose", "--text", "I am proud of you.", "-o", str(out / "rose.mp4"),
                           "--png", str(out / "rose.png"), "--size", "320x180", "--fps", "8"],
    "subject fit": lambda out: ["subject", "fit", "rose", "-q", "--export-mesh", str(out / "head.glb"),
                                "--contact-sheet", str(out / "sheet.png")],
    "demo": lambda out: ["demo", "--quick", "--quiet", "--out", str(out / "demo")],
}
OWN_SUBJECT = {"demo"}

# Recipes whose command does not route its files through the Exporter yet: their test is an
# expected failure (strict, so it flags the day it starts passing and should leave this list).
PENDING: dict[str, str] = {}


def command_names(group: click.Group, prefix: str = "") -> list[str]:
    """Every leaf command of the CLI, as 'subject fit'."""
    names = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            names += command_names(command, full)
        else:
            names.append(full)
    return names


def unclassified(group: click.Group) -> list[str]:
    return [n for n in command_names(group) if n not in NO_MEDIA and n not in MEDIA_WRITERS]


def files_under(folder: Path) -> set[Path]:
    return {p for p in Path(folder).rglob("*") if p.is_file()}


def check_outputs(paths) -> list[str]:
    """One line per problem: a media file that does not verify, or a file of an unexpected kind."""
    from generation.provenance import verify_file

    problems = []
    for path in sorted(paths):
        suffix = path.suffix.lower()
        if suffix in MEDIA_SUFFIXES:
            report = verify_file(path)
            if not report.ok:
                problems.append(report.line())
        elif suffix not in SIDE_FILES:
            problems.append(f"{path.name}: unexpected output file (not media, not a known side file)")
    return problems
