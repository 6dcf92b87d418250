"use strict";
// The therapist's console: one WebSocket to the console server; every control is one click or one key.
const token = new URLSearchParams(location.search).get("t");
const $ = (id) => document.getElementById(id);
let ws = null, status = null;
const KEYS = {s: "start", p: "pause", g: "grounding", n: "next", u: "suds_prompt", e: "end", x: "emergency_stop", escape: "emergency_stop"};

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  else alertLine("Not connected to the console server.");
}
function command(name) {
  // Pause doubles as Resume while the client is paused, Grounding as its own way back.
  const mode = status && status.client.state && status.client.state.mode;
  if (name === "pause" && mode === "paused") name = "resume";
  if (name === "grounding" && mode === "grounding") name = "resume";
  send({type: "command", seq: 0, name: name, sent: Date.now() / 1000});
}
function alertLine(text) {
  const li = document.createElement("li");
  li.textContent = new Date().toLocaleTimeString() + " " + text;
  $("alerts").prepend(li);
}
function mmss(s) { s = Math.max(0, Math.round(s)); return String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0"); }

function render(d) {
  status = d;
  $("subject").textContent = d.subject;
  $("session-id").textContent = "session " + d.session;
  const c = d.client, st = c.state;
  $("client-conn").textContent = c.connected ? "client connected (" + c.display + ")" : "no client";
  $("client-conn").className = "pill " + (c.connected ? "on" : "off");
  $("code").textContent = d.code || "—";
  $("view-cmd").textContent = "memorial view " + d.subject + " --session " + (d.code || "CODE");
  $("time-left").textContent = "time left " + (st ? mmss(st.time_left_s) : "—");
  $("st-mode").textContent = st ? st.mode + (st.reason ? " (" + st.reason + ")" : "") + (st.suds_prompt ? " · SUDS asked" : "") : "—";
  const steps = d.plan ? d.plan.steps : [];
  $("st-step").textContent = st && steps.length ? (st.step + 1) + "/" + steps.length + " " + steps[st.step].title : "—";
  $("st-line").textContent = st && st.line ? "“" + st.line + "”" : "—";
  $("st-gaze").textContent = st ? st.gaze : "—";
  $("st-room").textContent = st ? st.room + ", likeness " + st.likeness + (st.frozen ? ", frozen" : "") + (st.volume === 0 ? ", silent" : "") : "—";
  $("st-label").textContent = st ? st.label : "—";
  $("btn-pause").firstChild.textContent = st && st.mode === "paused" ? "Resume " : "Pause ";
  $("btn-grounding").firstChild.textContent = st && st.mode === "grounding" ? "Back from grounding " : "Grounding ";
  const ready = d.checklist.complete && d.plan && c.connected && !d.started;
  $("btn-start").disabled = !ready;
  const why = [];
  if (!d.plan) why.push("no plan yet (write one below)");
  if (!c.connected) why.push("no client connected");
  why.push(...d.checklist.problems);
  $("blocked").textContent = d.storage_errors.length ? "Could not write to the vault: " + d.storage_errors.join("; ")
    : d.started ? "" : ready ? "Ready to start." : "Start is blocked: " + why.join("; ");
  const form = $("checklist");
  form.family_consent_therapy.checked = d.checklist.family_consent_therapy;
  const cl = d.checklist, answers = Object.assign({adult_client: cl.adult_client, client_consent: cl.client_consent, cybersickness: cl.cybersickness}, cl.contraindications);
  for (const [k, v] of Object.entries(answers)) {
    if (v === null) continue;
    for (const r of form.querySelectorAll(`input[name="${k}"]`)) r.checked = r.value === String(v);
  }
  $("plan-steps").innerHTML = "";
  for (const [i, s] of steps.entries()) {
    const li = document.createElement("li");
    li.textContent = s.title + " — likeness " + s.likeness + (s.speaking ? ", speaking " + s.lines.length + " line(s)" : "");
    if (st && st.step === i) li.style.fontWeight = "bold";
    $("plan-steps").append(li);
  }
  if (!d.plan) $("plan-editor").open = true;
  $("plan-summary").textContent = d.plan ? d.plan.alias + " · " + d.plan.purpose + " · planned " + d.plan.duration_min +
    " min, hard cap " + d.plan.hard_cap_min + " min · alert above SUDS " + d.plan.suds_alert_above : "";
  $("resources").innerHTML = "";
  for (const r of (d.plan ? [d.plan.breathing, ...d.plan.resources] : [])) {
    const li = document.createElement("li"); li.textContent = r; $("resources").append(li);
  }
  $("notes").innerHTML = "";
  for (const n of d.notes.slice().reverse()) { const li = document.createElement("li"); li.textContent = mmss(n.t) + " " + n.text; $("notes").append(li); }
  const last = d.suds[d.suds.length - 1];
  $("suds-last").textContent = last ? "last " + last.value : "";
  drawSuds(d.suds, d.plan ? d.plan.suds_alert_above : null);
}
function drawSuds(points, threshold) {
  const cv = $("suds-chart"), g = cv.getContext("2d"), w = cv.width, h = cv.height;
  g.clearRect(0, 0, w, h); g.strokeStyle = "#ccc"; g.strokeRect(0, 0, w, h);
  if (threshold !== null) { g.strokeStyle = "#b03a2e"; g.setLineDash([4, 3]); g.beginPath(); g.moveTo(0, h - threshold / 100 * h); g.lineTo(w, h - threshold / 100 * h); g.stroke(); g.setLineDash([]); }
  if (!points.length) return;
  const t1 = Math.max(60, points[points.length - 1].t);
  g.strokeStyle = "#355f8c"; g.beginPath();
  points.forEach((p, i) => { const x = p.t / t1 * (w - 8) + 4, y = h - p.value / 100 * h; i ? g.lineTo(x, y) : g.moveTo(x, y); });
  g.stroke();
}
function connect() {
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/console?t=" + encodeURIComponent(token || ""));
  ws.onopen = () => { $("conn").textContent = "console online"; $("conn").className = "pill on"; };
  ws.onclose = () => { $("conn").textContent = "console offline"; $("conn").className = "pill off"; setTimeout(connect, 1000); };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === "status") render(m.data);
    else if (m.type === "alert") alertLine(m.text);
    else if (m.type === "frame") {
      const img = $("mirror");
      img.src = "data:image/jpeg;base64," + m.jpeg;
      img.dataset.frames = String(Number(img.dataset.frames || 0) + 1);  // lets a test wait for a fresh one
    }
  };
}
document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll("button[data-cmd]")) b.addEventListener("click", () => command(b.dataset.cmd));
  document.addEventListener("keydown", (ev) => {
    const tag = ev.target.tagName;
    if ((tag === "INPUT" && ev.target.type !== "radio" && ev.target.type !== "checkbox") || tag === "TEXTAREA") {
      if (ev.key !== "Escape") return;  // Esc stops the session even while typing
    }
    const name = KEYS[ev.key.toLowerCase()];
    if (name && !ev.ctrlKey && !ev.metaKey && !ev.altKey) { ev.preventDefault(); command(name); }
  });
  $("checklist").addEventListener("change", (ev) => {
    const el = ev.target, answers = {};
    if (el.name === "ssq_before") { if (el.value === "") return; answers.ssq_before = Number(el.value); }
    else if (el.name === "cybersickness") answers.cybersickness = el.value;
    else answers[el.name] = el.value === "true";
    send({type: "checklist", answers: answers});
  });
  $("btn-pair").addEventListener("click", () => send({type: "pair"}));
  $("note-form").addEventListener("submit", (ev) => { ev.preventDefault(); send({type: "note", text: $("note-text").value}); $("note-text").value = ""; });
  $("suds-form").addEventListener("submit", (ev) => { ev.preventDefault(); send({type: "measure", name: "therapist_suds", value: $("suds-value").value}); $("suds-value").value = ""; });
  $("ssq-form").addEventListener("submit", (ev) => { ev.preventDefault(); send({type: "measure", name: "ssq_after", value: $("ssq-after").value}); });
  $("adverse-form").addEventListener("submit", (ev) => { ev.preventDefault(); send({type: "measure", name: "adverse_event", value: $("adverse-text").value}); $("adverse-text").value = ""; });
  $("btn-plan").addEventListener("click", () => send({type: "plan", toml: $("plan-text").value}));
  fetch("/plan-example.toml").then((r) => r.ok ? r.text() : "").then((t) => { if (!$("plan-text").value) $("plan-text").value = t; });
  connect();
});
