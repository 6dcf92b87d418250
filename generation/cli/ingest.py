"""`memorial ingest` and `memorial subject fit`: media in, SubjectDataset and head out."""

from __future__ import annotations

from pathlib import Path

import click

from assets.errors import UsageError
from ..vault.roles import Action
from .common import member_option, show_progress, unlock


@click.command()
@click.argument("name")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@member_option
@click.option("--reference", "references", multiple=True, type=click.Path(path_type=Path),
              help="A photo of the subject alone: their face is confirmed as who to look for (repeatable).")
@click.option("--review", is_flag=True, help="List the doubtful faces (those that may be the subject).")
@click.option("--sheet", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --review: also write the doubtful faces as a numbered PNG contact sheet "
                   "(needs the video_export consent scope).")
@click.option("--confirm", default=None, metavar="N,N", help="With --review: these faces are the subject.")
@click.option("--reject", default=None, metavar="N,N", help="With --review: these faces are someone else.")
@click.option("--no-fit", is_flag=True, help="Only store the samples; run `memorial subject fit` later.")
@click.option("--single-photo/--no-single-photo", default=None,
              help="Force or forbid single-photo mode for the fit (default: when only one real face image).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars (they show only on a terminal).")
def ingest(name: str, paths: tuple[Path, ...], member: str | None, references: tuple[Path, ...], review: bool,
           sheet: Path | None, confirm: str | None, reject: str | None, no_fit: bool, single_photo: bool | None,
           quiet: bool) -> None:
    """Add photos, videos, folders and zip/tar archives of the subject, then fit the head.

    Photos: JPEG, PNG, WebP, BMP, TIFF, HEIC. Videos: mp4, mov, m4v, mkv, avi, webm (their
    audio is kept for the voice when consent allows). Originals are stored encrypted; files
    already in the vault are skipped, and a re-run after an interruption continues where it
    stopped. The subject is told apart from other people by a face recogniser: faces of
    others enter no sample; doubtful ones wait for --review.

    \b
    Example:
      memorial ingest rose ~/photos/rose ~/videos/birthday.mp4 album.zip --reference rose-alone.jpg
      memorial ingest rose --review --sheet doubts.png
      memorial ingest rose --review --confirm 1,3 --reject 2
    """
    from assets.artifacts import KEYS
    from ..ingest import ingest_paths

    if (sheet or confirm or reject) and not review:
        raise UsageError("--sheet, --confirm and --reject go with --review")
    if not review and not paths and not references:
        raise UsageError("give the photos, videos, folders or archives to ingest (or --review)")
    with unlock(name, member, Action.INGEST) as vault:
        if review:
            if _review(vault, name, sheet, confirm, reject) and not no_fit:
                _fit_and_print(vault, single_photo, quiet)
            if not paths and not references:
                return
        if references:
            from ..ingest.pipeline import learn_references

            for line in learn_references(vault, list(references)):
                click.echo(line)
        report = ingest_paths(vault, list(references) + list(paths), progress=show_progress(quiet))
        for line in report.lines():
            click.echo(line.replace("memorial ingest NAME", f"memorial ingest {name}"))
        if not report.accepted and not report.skipped and not report.not_subject and not report.doubtful:
            raise UsageError("no files found in the given paths")
        if not report.accepted and not report.already and not report.not_subject and not report.doubtful:
            raise UsageError(f"none of the {len(report.skipped)} file(s) could be ingested (reasons above)")
        if not no_fit and (report.accepted or not vault.exists(KEYS["dataset"])):
            _fit_and_print(vault, single_photo, quiet)


def _review(vault, name: str, sheet: Path | None, confirm: str | None, reject: str | None) -> bool:
    """List, show and settle the doubtful faces; True when a face was confirmed."""
    from ..ingest import review as rv

    yes, no = rv.parse_numbers(confirm), rv.parse_numbers(reject)
    if yes or no:
        for line in rv.settle(vault, yes, no):
            click.echo(line)
    items = rv.doubts(vault)
    click.echo(f"Doubtful       {len(items)} face(s) left to review"
               + (f" (memorial ingest {name} --review --confirm N,N --reject N,N)" if items else ""))
    for d in items:
        click.echo(d.line())
    if sheet is not None:
        if not items:
            raise UsageError("no doubtful faces: nothing to put on a sheet")
        rv.write_review_sheet(vault, items, sheet)
        click.echo(f"Wrote the review sheet to {sheet}")
    return bool(yes)


def _fit_and_print(vault, single_photo, quiet: bool, register: bool = False):
    from ..ingest import fit_subject
    from ..ingest.dataset import FitConfig, NoSamples, dataset_lines

    try:
        dataset, head = fit_subject(vault, single_photo=single_photo, progress=show_progress(quiet),
                                    config=FitConfig(register=register))
    except NoSamples as exc:
        click.echo(f"Not fitted     {exc}")
        return None, None
    for line in dataset_lines(dataset, head):
        click.echo(line)
    return dataset, head


@click.command()
@click.argument("name")
@member_option
@click.option("--single-photo/--no-single-photo", default=None,
              help="Force or forbid single-photo mode (default: when only one real face image).")
@click.option("--export-mesh", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the head mesh as .glb or .obj (needs the video_export consent scope).")
@click.option("--contact-sheet", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a PNG grid of crops and UV textures (needs the video_export consent scope).")
@click.option("--register-texture", is_flag=True,
              help="Register every frame's face texture to their common mean (sharper texture; measured "
                   "0.3 dB further from real frames on the head, so off by default).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars (they show only on a terminal).")
def fit(name: str, member: str | None, single_photo: bool | None, export_mesh: Path | None,
        contact_sheet: Path | None, register_texture: bool, quiet: bool) -> None:
    """Build the subject's dataset and head model from everything ingested.

    Aligns every face sample, calibrates the expression controls, fits the head mesh,
    computes expression codes and unwraps UV textures; stores them in the vault.

    \b
    Example:
      memorial subject fit rose --export-mesh rose-head.glb --contact-sheet rose.png
    """
    for path, kinds in ((export_mesh, (".glb", ".obj")), (contact_sheet, (".png",))):
        if path is not None and path.suffix.lower() not in kinds:
            raise UsageError(f"{path}: file name must end in {' or '.join(kinds)}")
        if path is not None and path.exists():
            raise UsageError(f"{path} already exists; choose another file name")
    with unlock(name, member, Action.TRAIN) as vault:
        if export_mesh or contact_sheet:
            vault.authorize(Action.EXPORT_VIDEO)
        dataset, head = _fit_and_print(vault, single_photo, quiet, register_texture)
        if dataset is None:
            raise UsageError(f"nothing to fit for '{name}': ingest photos or videos first")
        from ..ingest.dataset import mean_texture
        from ..ingest.export import write_contact_sheet, write_mesh

        if export_mesh:
            write_mesh(vault, head, mean_texture(dataset), export_mesh)
            click.echo(f"Wrote the head mesh to {export_mesh}")
        if contact_sheet:
            write_contact_sheet(vault, dataset, contact_sheet)
            click.echo(f"Wrote the contact sheet to {contact_sheet}")
