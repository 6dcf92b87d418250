"""The session report (PDF and HTML): header, plan, timeline, lines played, pauses and exits,
the SUDS curve, cybersickness before/after, notes, adverse events, and the trend of the
therapist's cross-session measures. Plots are matplotlib; nothing shows the likeness."""

from __future__ import annotations

import base64
import html
import io
import textwrap

from .record import SessionRecord
from .store import MEASURES

PAGE = (8.27, 11.69)  # A4, inches
LINES_PER_PAGE = 58
WRAP = 98
PAUSE_KINDS = ("headset_off", "link_lost", "left", "cap_end", "cap_warning", "client_disconnected")


def _mmss(t: float | None, start: float | None) -> str:
    if t is None:
        return "--:--"
    s = max(0.0, t - (start or 0.0))
    return f"{int(s // 60):02d}:{int(s % 60):02d}"


def text_sections(record: SessionRecord) -> list[tuple[str, list[str]]]:
    plan = record.plan or {}
    start = record.started_t
    duration = (record.ended_t - start) / 60 if record.ended_t is not None and start is not None else None
    header = [
        f"Subject: {record.subject}    Session: {record.id}    Opened: {record.opened}",
        f"Therapist: {record.therapist}    Client (alias): {plan.get('alias', '-')}",
        f"Planned: {plan.get('duration_min', '-')} min, hard cap {plan.get('hard_cap_min', '-')} min;"
        f" held: {'%.1f min' % duration if duration is not None else 'not started or not ended'}",
        f"Purpose: {plan.get('purpose', '-')}",
        "The person in the room was an AI-generated likeness; it spoke only therapist-authored lines.",
    ]
    steps = [f"{i}. {s['title']} (likeness {s['likeness']}{', speaking' if s['speaking'] else ''})"
             + "".join(f"\n     - \"{ln['text']}\"" for ln in s["lines"]) for i, s in enumerate(plan.get("steps", []), 1)]
    if plan:
        steps.append(f"Closing: \"{plan['goodbye']}\" then fade {plan['fade_s']:g} s; reality: \"{plan['reality']}\"")
    cl = record.checklist or {}

    def yn(v) -> str:
        return "yes" if v is True else "no" if v is False else "not answered"

    checklist = [f"Adult client: {yn(cl.get('adult_client'))}; client consent: {yn(cl.get('client_consent'))}; "
                 f"family consent (therapy): {yn(cl.get('family_consent_therapy'))}",
                 "Contraindications present: " + (", ".join(
                     f"{k.replace('_', ' ')}: {yn(v)}" for k, v in (cl.get("contraindications") or {}).items())
                     or "not asked"),
                 f"Cybersickness susceptibility: {cl.get('cybersickness') or 'not answered'}"]
    timeline = [f"{_mmss(e['t'], start)}  {e['kind'].replace('_', ' ')}  {e['detail']}" for e in record.events]
    lines = [f"{_mmss(x['t'], start)}  step {x['step'] + 1}: \"{x['text']}\"" for x in record.lines] or ["none"]
    pauses = [f"{_mmss(e['t'], start)}  {e['kind'].replace('_', ' ')}  {e['detail']}" for e in record.events
              if e["kind"] in PAUSE_KINDS or (e["kind"] == "command" and e["detail"] in
                                              ("pause", "grounding", "end", "emergency_stop"))] or ["none"]
    notes = [f"{_mmss(n['t'], start)}  {n['text']}" for n in record.notes] or ["none"]
    adverse = [f"{_mmss(a['t'], start)}  {a['text']}" for a in record.adverse_events] or ["none recorded"]
    return [("Session", header), ("Plan", steps or ["no plan"]), ("Pre-session checklist", checklist),
            ("Pauses, grounding and exits", pauses), ("Lines played", lines), ("Notes", notes),
            ("Adverse events", adverse), ("Timeline", timeline or ["no events"])]


def plots(record: SessionRecord, measures: list[dict]):
    """(suds, cybersickness, trend) matplotlib figures; trend is None without measures."""
    from matplotlib.figure import Figure

    start = record.started_t or 0.0
    threshold = (record.plan or {}).get("suds_alert_above")
    suds = Figure(figsize=(7.2, 2.8), dpi=110)
    ax = suds.add_subplot()
    if record.suds:
        xs = [(s["t"] - start) / 60 for s in record.suds]
        ax.plot(xs, [s["value"] for s in record.suds], marker="o", color="#355f8c", label="SUDS")
        for x, s in zip(xs, record.suds):
            ax.annotate(f"step {s['step'] + 1}", (x, s["value"]), textcoords="offset points", xytext=(0, 6),
                        fontsize=7, ha="center")
    else:
        ax.text(0.5, 0.5, "no SUDS ratings recorded", transform=ax.transAxes, ha="center", color="#777")
    if threshold is not None:
        ax.axhline(threshold, color="#b03a2e", linestyle="--", linewidth=1, label=f"alert above {threshold}")
        ax.legend(loc="upper right", fontsize=7)
    ax.set_ylim(0, 100)
    ax.set_xlabel("minutes since start")
    ax.set_ylabel("SUDS (0-100)")
    ax.set_title("Distress during the session")
    suds.tight_layout()

    sick = Figure(figsize=(3.4, 2.6), dpi=110)
    ax = sick.add_subplot()
    values = [record.ssq_before, record.ssq_after]
    ax.bar(["before", "after"], [v or 0 for v in values], color=["#7d9c6b", "#c28f4a"])
    for i, v in enumerate(values):
        ax.text(i, (v or 0) + 1, "not entered" if v is None else f"{v:g}", ha="center", fontsize=8)
    ax.set_ylim(0, max(v or 0 for v in values) * 1.25 + 5)
    ax.set_ylabel("SSQ total")
    ax.set_title("Cybersickness")
    sick.tight_layout()

    trend = None
    if measures:
        import datetime as dt

        trend = Figure(figsize=(3.8, 2.6), dpi=110)
        ax = trend.add_subplot()
        axes = {"pg13r": ax, "ssq": ax.twinx()}  # the two totals have different ranges
        for (name, (label, low, high)), colour in zip(MEASURES.items(), ("#6a3d9a", "#c28f4a")):
            pts = sorted((dt.date.fromisoformat(m["date"]), m["value"]) for m in measures if m["name"] == name)
            axes[name].plot([d for d, _ in pts], [v for _, v in pts], marker="o", color=colour, label=label)
            axes[name].set_ylim(low, high)
            axes[name].set_ylabel(label, color=colour, fontsize=8)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        ax.set_title("Measures across sessions")
        trend.tight_layout()
    return suds, sick, trend


def _wrapped(sections) -> list[tuple[str, str]]:
    out = []
    for title, lines in sections:
        out.append(("h", title))
        for line in lines:
            for part in line.split("\n"):
                for w in textwrap.wrap(part, WRAP, subsequent_indent="      ") or [""]:
                    out.append(("p", w))
        out.append(("p", ""))
    return out


def render_pdf(record: SessionRecord, measures: list[dict]) -> bytes:
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    suds, sick, trend = plots(record, measures)
    sections = text_sections(record)
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": f"Session report {record.id}", "Creator": "Memorial VR"}) as pdf:
        first = Figure(figsize=PAGE)
        first.text(0.07, 0.95, "Therapist-guided session report", fontsize=16, weight="bold")
        y = 0.925
        for line in sections[0][1]:
            for w in textwrap.wrap(line, 92):
                first.text(0.07, y, w, fontsize=9)
                y -= 0.017
        top = _paste(first, suds, 0.05, y - 0.01, 0.9) - 0.02  # plots follow the header: no empty bands
        _paste(first, sick, 0.05, top, 0.44)
        if trend is not None:
            _paste(first, trend, 0.5, top, 0.46)
        pdf.savefig(first)
        rows = _wrapped(sections[1:])
        for i in range(0, len(rows), LINES_PER_PAGE):
            page = Figure(figsize=PAGE)
            for j, (kind, text) in enumerate(rows[i:i + LINES_PER_PAGE]):
                page.text(0.07, 0.95 - j * 0.0155, text, fontsize=11 if kind == "h" else 8.5,
                          weight="bold" if kind == "h" else "normal", family="DejaVu Sans")
            page.text(0.93, 0.03, f"{record.id}", fontsize=7, ha="right", color="#777")
            pdf.savefig(page)
    return buf.getvalue()


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _paste(page, fig, left: float, top: float, width: float) -> float:
    """Place a rendered plot on a page at its own aspect (a PNG at 110 dpi keeps the PDF small and
    exact), its top edge at `top`; returns its bottom edge (page fractions)."""
    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(_png(fig))).convert("RGB"))
    page_w, page_h = page.get_size_inches()
    height = width * img.shape[0] / img.shape[1] * page_w / page_h
    ax = page.add_axes((left, top - height, width, height))
    ax.imshow(img, interpolation="lanczos")
    ax.set_axis_off()
    return top - height


def render_html(record: SessionRecord, measures: list[dict]) -> str:
    suds, sick, trend = plots(record, measures)
    imgs = "".join(f'<img alt="{alt}" src="data:image/png;base64,{base64.b64encode(_png(f)).decode()}">'
                   for alt, f in (("SUDS curve", suds), ("Cybersickness", sick), ("Trend", trend)) if f is not None)
    body = []
    for title, lines in text_sections(record):
        body.append(f"<h2>{html.escape(title)}</h2><ul>" +
                    "".join(f"<li>{html.escape(x).replace(chr(10), '<br>')}</li>" for x in lines) + "</ul>")
        if title == "Session":
            body.append(f"<div class=plots>{imgs}</div>")
    return ("<!doctype html><html lang=en><meta charset=utf-8>"
            f"<title>Session report {html.escape(record.id)}</title>"
            "<style>body{font:14px/1.45 sans-serif;max-width:60em;margin:2em auto;color:#222}"
            "h2{font-size:1.05em;border-bottom:1px solid #ccc}img{max-width:100%;margin:.3em}"
            "li{list-style:none}</style>"
            "<h1>Therapist-guided session report</h1>" + "".join(body) + "</html>")
