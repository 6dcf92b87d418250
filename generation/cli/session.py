"""`memorial session …`: plan, run (live console) and report therapist-guided sessions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from assets.errors import UsageError
from ..vault.roles import Action
from .common import member_option, unlock


@click.group()
def session() -> None:
    """Therapist-guided sessions: a plan, a live console in your browser, a report.

    \b
    Example:
      memorial session plan-example > plan.toml        # edit it
      memorial session plan rose --file plan.toml
      memorial session console rose --port 8765        # the client joins with the code it shows
      memorial session report rose 20261130-1845-ab12 -o report.pdf
    """


@session.command("plan-example")
def plan_example() -> None:
    """Print a commented session plan to fill in.

    \b
    Example:
      memorial session plan-example > plan.toml
    """
    from ..session.plan import EXAMPLE

    click.echo(EXAMPLE, nl=False)


@session.command("plan")
@click.argument("name")
@click.option("--file", "plan_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The plan (TOML); see `memorial session plan-example`.")
@click.option("--speak", is_flag=True,
              help="Give every authored line without a recording a synthetic voice (a stored track) now, "
                   "so the likeness says it with moving lips.")
@member_option
def plan_cmd(name: str, plan_file: Path, speak: bool, member: str | None) -> None:
    """Check a session plan and store it (encrypted) in the subject's vault.

    \b
    Example:
      memorial session plan rose --file plan.toml --speak
    """
    from vr_app.inputs import track_names

    from ..session.plan import parse_plan, planned_tracks, with_spoken_lines
    from ..session.store import save_plan

    try:
        text = plan_file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read plan file {plan_file}: {exc}") from None
    with unlock(name, member, Action.THERAPY) as vault:
        plan = parse_plan(text, source=plan_file.name, author=vault.member)
        missing = sorted(set(planned_tracks(plan)) - set(track_names(vault)))
        if missing:
            raise UsageError(f"{plan_file.name}: the plan plays track '{missing[0]}', which this subject does not have")
        if speak:
            plan = with_spoken_lines(vault, plan)
        save_plan(vault, plan)
        vault.log("session_plan_stored", steps=len(plan.steps), alias=plan.alias)
    click.echo(f"Stored the session plan for '{name}': {len(plan.steps)} steps, "
               f"{plan.duration_min:g} min planned, hard cap {plan.hard_cap_min:g} min.")


@session.command("list")
@click.argument("name")
@member_option
def list_cmd(name: str, member: str | None) -> None:
    """List the subject's recorded sessions.

    \b
    Example:
      memorial session list rose
    """
    from ..session.store import list_records, load_plan

    with unlock(name, member, Action.THERAPY) as vault:
        plan = load_plan(vault)
        ids = list_records(vault)
    click.echo(f"plan: {'%d steps for %s' % (len(plan.steps), plan.alias) if plan else 'none stored'}")
    for sid in ids:
        click.echo(sid)
    if not ids:
        click.echo("no sessions yet")


@session.command()
@click.argument("name")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default serves this computer only.")
@click.option("--no-browser", is_flag=True, help="Print the URL but do not open a browser.")
@member_option
def console(name: str, port: int, host: str, no_browser: bool, member: str | None) -> None:
    """Serve the live session console and open it in your browser.

    The client's viewer joins with the one-time pairing code shown on the page:
    `memorial view NAME --session CODE` (it connects out; the client opens no port).

    \b
    Example:
      memorial session console rose --port 8765
    """
    import socket
    import webbrowser

    import uvicorn

    from vr_app.console.app import create_app
    from vr_app.console.service import ConsoleService

    with unlock(name, member, Action.THERAPY) as vault:
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        service = ConsoleService(vault)
        code = service.issue_code() if service.plan else None
        url = f"http://{host}:{port}/?t={service.token}"
        click.echo(f"Console for '{name}', session {service.record.id}: {url}")
        if code:
            click.echo(f"Pairing code (single use, 10 min): {code}   client: memorial view {name} --session {code}")
        else:
            click.echo("No session plan yet: write one on the console page.")
        if not no_browser:
            webbrowser.open(url)
        uvicorn.run(create_app(service), host=host, port=port, log_level="warning", access_log=False)


@session.command()
@click.argument("name")
@click.argument("session_id", metavar="SESSION")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Report file: .pdf or .html.")
@member_option
def report(name: str, session_id: str, out: Path, member: str | None) -> None:
    """Write a session's report (PDF or HTML); a copy stays encrypted in the vault.

    \b
    Example:
      memorial session report rose 20261130-1845-ab12 -o report.pdf
    """
    from ..provenance.exporter import DOCUMENTS, export_document
    from ..session.report import render_html, render_pdf
    from ..session.store import REPORT_PREFIX, load_measures, load_record

    suffix = out.suffix.lower()
    if suffix not in DOCUMENTS:
        raise UsageError(f"--out must end in .pdf or .html, got {out.name!r}")
    with unlock(name, member, Action.THERAPY) as vault:
        record = load_record(vault, session_id)
        measures = load_measures(vault)
        data = render_pdf(record, measures) if suffix == ".pdf" else render_html(record, measures).encode("utf-8")
        vault.put(f"{REPORT_PREFIX}{session_id}{suffix}", data, kind="session_report")
        rec = export_document(vault, out, data, command="session report")
    click.echo(f"Wrote {rec.path} (sha256 {rec.sha256[:12]}…)")


@session.command()
@click.argument("name")
@click.option("--pg13r", type=float, default=None, help="PG-13-R total you scored (10-50).")
@click.option("--ssq", type=float, default=None, help="Simulator Sickness Questionnaire total (0-236).")
@click.option("--date", "when", default=None, help="Date measured, YYYY-MM-DD (default: today).")
@click.option("--session", "session_id", default="", help="The session it belongs to, if any.")
@member_option
def measure(name: str, pg13r: float | None, ssq: float | None, when: str | None, session_id: str,
            member: str | None) -> None:
    """Record questionnaire totals you scored; the report plots their trend across sessions.

    The questionnaires themselves are not shipped (their licences are the authors').

    \b
    Example:
      memorial session measure rose --pg13r 34 --ssq 12 --date 2026-11-30
    """
    from ..session.store import add_measure

    if pg13r is None and ssq is None:
        raise UsageError("give --pg13r and/or --ssq")
    try:
        day = dt.date.fromisoformat(when) if when else dt.date.today()
    except ValueError:
        raise UsageError(f"--date must look like 2026-11-30, got {when!r}") from None
    with unlock(name, member, Action.THERAPY) as vault:
        for key, value in (("pg13r", pg13r), ("ssq", ssq)):
            if value is not None:
                add_measure(vault, key, value, day, session_id)
    click.echo("Recorded.")


def view_session(name: str, code: str, url: str, display: str, seconds: float | None, member: str | None) -> None:
    """`memorial view NAME --session CODE`: the client's desktop viewer, driven by the session."""
    from scenes.spec import load as load_spec
    from vr_app import viewer
    from vr_app.errors import DisplayUnavailable
    from vr_app.inputs import line_textures, load_inputs, load_track, track_names
    from vr_app.session.binding import SessionHook
    from vr_app.session.client import ClientSession
    from vr_app.session.xr import session_scene_builder
    from vr_app.xr.display import choose_display, memorial_scene_builder, run_openxr_view

    chosen, reason = choose_display(display)
    if chosen == "none":
        raise DisplayUnavailable(reason)
    if chosen == "desktop":
        viewer.check_display()
    with unlock(name, member, Action.THERAPY) as vault:
        client = ClientSession.join(url, code, "desktop")
        plan = client.link.welcome.plan
        stored = set(track_names(vault))
        names = [ln["track"] for step in plan["steps"] for ln in step["lines"] if ln["track"] in stored]
        lines = [load_track(vault, t) for t in names]
        textures = line_textures(vault, names)
        inputs = load_inputs(vault, lines[0] if lines else None, texture=textures[0] if textures else None)
        vault.log("view", scene=plan["room"], tracks=",".join(names), display=chosen, session=client.session_id)
    spec, safe_spec = load_spec(plan["room"]), load_spec(plan["safe_room"])
    try:
        if chosen == "desktop":
            inputs.session = SessionHook(client, names, safe_spec)
            click.echo(f"Joined session {client.session_id}. Keys: q or esc leave · digits + enter answer SUDS.")
            viewer.run(inputs, spec, lines, max_seconds=seconds, textures=textures or None)
        else:
            click.echo(f"Joined session {client.session_id} in the headset. Leave: end the app or take it off.")
            builder = session_scene_builder(memorial_scene_builder(inputs, spec, None), client, safe_spec)
            run_openxr_view(builder, seconds=seconds, echo=click.echo, on_start=builder.on_start)
    finally:
        client.close()
