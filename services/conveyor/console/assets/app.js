// conveyor console: one page, routed by the URL's hash; every value shown is set as text
// (never as HTML), since event payloads and headers come from outside.
"use strict";

const view = () => document.getElementById("view");
let config = { allow_actions: false };
let timer = null;
let actor = { operator: "", token: "" };

function el(tag, attrs, ...children) {
  const node = tag === "svg" || tag === "polyline"
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

async function getJson(url) {
  const response = await fetch(url, { headers: { accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

async function act(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-conveyor-token": actor.token,
      "x-conveyor-operator": actor.operator,
    },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

function message(kind, text) { return el("p", { class: kind, role: kind === "error" ? "alert" : "status" }, text); }

function actorFields() {
  const box = document.getElementById("actions-template").content.cloneNode(true);
  const operator = box.querySelector("input[name=operator]");
  const token = box.querySelector("input[name=token]");
  operator.value = actor.operator;
  token.value = actor.token;
  operator.addEventListener("input", () => { actor.operator = operator.value; });
  token.addEventListener("input", () => { actor.token = token.value; });
  return box;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const one of [].concat(value)) if (one) search.append(name, one);
  }
  return search.toString();
}

// Services: a table refreshed every few seconds from /api/services, charts of the last hour.

function spark(history, field, cls) {
  const values = history[field].map((v) => v || 0);
  const width = 120, height = 28;
  const top = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / top) * (height - 4)).toFixed(1)}`);
  return el("svg", { class: "spark", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${field}, last hour, max ${top}` },
    el("polyline", { class: cls, points: points.join(" ") }));
}

// Waiting events per lane of a service's inputs with lanes ("<topic>/<lane>" -> count), highest
// lane first; named by the lane alone when one topic of the service has lanes.
function laneWaiting(byLane) {
  const entries = Object.entries(byLane || {});
  if (!entries.length) return null;
  const topics = new Set(entries.map(([name]) => name.slice(0, name.lastIndexOf("/"))));
  return el("div", { class: "lanes" }, entries.map(([name, count]) => el("div", { class: "lane", "data-lane": name },
    el("span", { class: "lane-name" }, topics.size > 1 ? name : name.slice(name.lastIndexOf("/") + 1)), " ",
    el("span", { class: "lane-waiting" }, count))));
}

function laneBadge(lane) {
  return lane ? el("span", { class: "lane-badge", "data-lane": lane, title: "lane" }, lane) : null;
}

function serviceRow(s) {
  const tiers = Object.entries(s.retrying).map(([t, n]) => `${t.replace(s.service + ".", "")}: ${n}`).join(", ") || "-";
  const rate = s.events_per_second === null ? "-" : s.events_per_second.toFixed(1);
  return el("tr", { "data-service": s.service },
    el("td", {}, el("strong", {}, s.service)),
    el("td", {}, el("span", { class: `state state-${s.activity}` }, s.activity), el("div", { class: "muted" }, s.state)),
    el("td", { class: "members" }, s.members.length ? s.members.map((m) => el("div", {}, m)) : "none"),
    el("td", { class: "num waiting" }, s.waiting, laneWaiting(s.waiting_by_lane)),
    el("td", { class: "num waiting-seconds" }, s.waiting_seconds.toFixed(1)),
    el("td", { class: "num rate" }, rate),
    el("td", { class: "retrying" }, tiers),
    el("td", { class: "num parked" }, s.parked),
    el("td", { class: "num dead" }, el("a", { href: `#/dlq/${encodeURIComponent(s.service)}` }, s.dead_lettered)),
    el("td", {}, spark(s.history, "waiting", "waiting")),
    el("td", {}, spark(s.history, "events_per_second", "rate")),
    el("td", {}, el("a", { href: `#/replay/${encodeURIComponent(s.service)}` }, "replay")));
}

async function showServices() {
  const table = el("table", { id: "services" },
    el("thead", {}, el("tr", {}, ["service", "state", "members", "waiting", "oldest (s)", "events/s",
      "retrying", "parked", "dead letters", "waiting, 1 h", "events/s, 1 h", ""].map((h) => el("th", {}, h)))),
    el("tbody"));
  const status = el("div", { id: "services-status" });
  fill(view(), el("h1", {}, "Services"), status, table);
  const refresh = async () => {
    try {
      const snapshot = await getJson("/api/services");
      fill(table.tBodies[0], ...snapshot.services.map(serviceRow));
      fill(status, snapshot.error ? message("error", snapshot.error) : "");
      document.getElementById("updated").textContent = snapshot.taken_at ? `sampled ${snapshot.taken_at}` : "sampling…";
    } catch (error) {
      fill(status, message("error", error.message));
    }
  };
  await refresh();
  timer = setInterval(refresh, 2000);
}

// Dead letters: filter, look, preview a redrive, confirm it, follow its progress.

function letterRow(letter) {
  return el("tr", { "data-id": letter.id },
    el("td", {}, el("input", { type: "checkbox", class: "pick", value: letter.id, "aria-label": `select ${letter.id}` })),
    el("td", {}, letter.id),
    el("td", { class: "key" }, letter.key || "-"),
    el("td", {}, letter.event_type || "-"),
    el("td", { class: "error-type" }, letter.error_type || "-", el("div", { class: "muted" }, letter.error_message || "")),
    el("td", {}, `${letter.original_topic}[${letter.original_partition}]@${letter.original_offset}`),
    el("td", { class: "lane" }, letter.lane || "-"),
    el("td", { class: "num" }, letter.attempts ?? "-"),
    el("td", {}, letter.dead_lettered_at || "-"),
    el("td", { class: "redriven" }, letter.redriven_at || "-"),
    el("td", {}, el("details", {}, el("summary", {}, "headers and event"),
      el("pre", { class: "headers" }, JSON.stringify(letter.headers, null, 2)),
      el("pre", { class: "event" }, JSON.stringify(letter.event ?? { error: letter.error, raw_base64: letter.raw_base64 }, null, 2)))));
}

async function showDeadLetters(service) {
  const base = `/api/services/${encodeURIComponent(service)}`;
  const form = el("form", { class: "filters", id: "filters" },
    ...["error_type", "key", "lane", "since", "until"].map((name) => el("label", {}, name.replace("_", " "),
      el("input", { name, placeholder: name === "since" || name === "until" ? "2026-12-01T09:00Z" : "" }))),
    el("button", { type: "submit" }, "Filter"));
  const list = el("div", { id: "letters" });
  const panel = el("div", { id: "redrive" });
  fill(view(), el("h1", {}, `Dead letters of ${service}`), form, list, panel);
  const filter = () => Object.fromEntries(new FormData(form).entries());
  const picked = () => [...list.querySelectorAll("input.pick:checked")].map((box) => box.value);

  const load = async () => {
    fill(list, el("p", { class: "muted" }, "reading…"));
    try {
      const found = await getJson(`${base}/dead-letters?${query(filter())}`);
      fill(list, el("p", { class: "muted", id: "matching" }, `${found.matching} matching dead letter(s)`),
        el("table", {}, el("thead", {}, el("tr", {}, ["", "id", "key", "event", "error", "from", "lane", "attempts", "dead-lettered", "redriven", ""].map((h) => el("th", {}, h)))),
          el("tbody", {}, found.letters.map(letterRow))));
    } catch (error) {
      fill(list, message("error", error.message));
    }
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  await load();
  if (!config.allow_actions) {
    fill(panel, el("p", { class: "muted" }, "Read-only console: start it with --allow-actions to redrive."));
    return;
  }
  const result = el("div", { id: "redrive-result" });
  const preview = async (bySelection) => {
    const ids = bySelection ? picked() : [];
    if (bySelection && !ids.length) { fill(result, message("error", "select dead letters first")); return; }
    const params = bySelection ? { id: ids } : filter();
    try {
      const plan = await getJson(`${base}/redrive-plan?${query(params)}`);
      showPlan(plan, bySelection ? { ids } : { filter: filter() });
    } catch (error) { fill(result, message("error", error.message)); }
  };
  const showPlan = (plan, selection) => {
    const confirm = el("button", { class: "danger", id: "confirm-redrive", type: "button" }, `Redrive ${plan.events.length} event(s) into ${plan.target}`);
    confirm.addEventListener("click", () => run(selection));
    fill(result, el("div", { id: "redrive-plan" },
      el("h2", {}, "Redrive plan (dry run: nothing changed yet)"),
      el("p", {}, `${plan.events.length} event(s) of ${plan.keys} key(s) into ${plan.target}: ${plan.events.join(", ") || "none"}`),
      plan.releases_parked_keys.length ? el("p", {}, `releases parked key(s): ${plan.releases_parked_keys.join(", ")}`) : null,
      plan.already_redriven ? el("p", {}, `${plan.already_redriven} matching letter(s) were redriven before: skipped`) : null,
      plan.skipped.map((s) => el("p", { class: "muted" }, `held back ${s.id}: ${s.reason}`)),
      plan.events.length ? confirm : el("p", {}, "nothing to redrive")));
  };
  const run = async (selection) => {
    try {
      const started = await act(`${base}/redrive`, selection);
      follow(started.job);
    } catch (error) { fill(result, message("error", error.message)); }
  };
  const follow = (job) => {
    const bar = el("progress", { max: Math.max(1, job.total), value: job.done });
    const text = el("span", { id: "redrive-progress" }, `${job.done} / ${job.total}`);
    fill(result, el("h2", {}, "Redriving"), bar, " ", text);
    const poll = setInterval(async () => {
      const now = await getJson(`/api/jobs/${job.id}`);
      bar.value = now.done;
      text.textContent = `${now.done} / ${now.total} ${now.state}`;
      if (now.state !== "running") {
        clearInterval(poll);
        result.append(now.state === "finished" ? message("ok", `redrove ${now.done} event(s)`) : message("error", now.error));
        load();
      }
    }, 500);
  };
  fill(panel, el("h2", {}, "Redrive"), actorFields(),
    el("button", { type: "button", id: "preview-selected", onclick: () => preview(true) }, "Preview redrive of the selected"), " ",
    el("button", { type: "button", id: "preview-filter", onclick: () => preview(false) }, "Preview redrive of the filter"),
    result);
}

// Replay: the plan first, applied only after confirmation; refused while the group has members.

async function showReplay(service) {
  const base = `/api/services/${encodeURIComponent(service)}`;
  const form = el("form", { class: "filters", id: "replay-form" },
    el("label", {}, "to", el("select", { name: "to" }, ["earliest", "time", "offset", "latest"].map((t) => el("option", { value: t }, t)))),
    el("label", {}, "time (ISO-8601)", el("input", { name: "time", placeholder: "2026-12-01T09:00:00Z" })),
    el("label", {}, "offsets (partition:offset, ...)", el("input", { name: "offsets", placeholder: "0:120,1:98" })),
    el("button", { type: "submit" }, "Plan"));
  const result = el("div", { id: "replay-result" });
  fill(view(), el("h1", {}, `Replay ${service}`), form, result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const target = Object.fromEntries(new FormData(form).entries());
    try {
      const plan = await getJson(`${base}/replay-plan?${query(target)}`);
      const rows = plan.moves.map((m) => el("tr", {}, el("td", {}, m.topic), el("td", { class: "num" }, m.partition),
        el("td", { class: "num" }, m.current ?? "-"), el("td", { class: "num" }, m.new), el("td", { class: "num" }, m.end),
        el("td", { class: "num" }, m.reprocess), el("td", {}, m.note)));
      const live = plan.members.length
        ? message("error", `${service} is running (${plan.members.join(", ")}): stop it before a replay`)
        : null;
      const apply = el("button", { class: "danger", type: "button", id: "confirm-replay" }, `Apply: ${plan.reprocess} event(s) to process again`);
      apply.addEventListener("click", async () => {
        try {
          await act(`${base}/replay`, target);
          result.append(message("ok", `moved the offsets of ${service}`));
        } catch (error) { result.append(message("error", error.message)); }
      });
      fill(result, el("h2", {}, `Plan: ${plan.target}`),
        el("table", { id: "replay-plan" }, el("thead", {}, el("tr", {}, ["topic", "partition", "committed", "new", "end", "to process again", "note"].map((h) => el("th", {}, h)))), el("tbody", {}, rows)),
        live, config.allow_actions && !live ? [actorFields(), apply] : null);
    } catch (error) { fill(result, message("error", error.message)); }
  });
}

// Journey: every event of one key, and what each consuming service made of it.

function fateBadge(fate) {
  const extra = fate.state === "retrying" ? ` (${fate.tier}, attempt ${fate.attempts ?? "?"})`
    : fate.state === "dead-lettered" || fate.state === "parked" ? ` (${fate.error_type || "parked"})`
    : fate.redriven ? " (redriven)" : "";
  return el("span", { class: `fate fate-${fate.state}`, "data-service": fate.service, "data-state": fate.state, title: JSON.stringify(fate) },
    `${fate.service}: ${fate.state}${extra}`);
}

async function showJourney(key) {
  const input = el("input", { name: "key", value: key || "", placeholder: "an order id, a user id", required: true });
  const form = el("form", { class: "filters", id: "journey-form" }, el("label", {}, "key", input), el("button", { type: "submit" }, "Show"));
  const result = el("div", { id: "journey" });
  fill(view(), el("h1", {}, "An entity's journey"), form, result);
  form.addEventListener("submit", (event) => { event.preventDefault(); location.hash = `#/journey/${encodeURIComponent(input.value.trim())}`; });
  if (!key) return;
  fill(result, el("p", { class: "muted" }, "reading…"));
  try {
    const found = await getJson(`/api/journey?${query({ key })}`);
    fill(result, 
      el("p", { class: "muted" }, `${found.events.length} event(s) with key ${found.key}`),
      found.events.map((e) => el("div", { class: "event", "data-topic": e.topic, "data-offset": e.offset, "data-lane": e.lane },
        el("div", {}, el("strong", {}, e.type || "undecodable"), " ", laneBadge(e.lane), ` ${e.topic}[${e.partition}]@${e.offset} `, el("span", { class: "muted" }, e.timestamp)),
        el("div", { class: "fates" }, e.services.map(fateBadge)),
        el("details", {}, el("summary", {}, "event"), el("pre", {}, JSON.stringify(e.event ?? e.error, null, 2))))));
  } catch (error) { fill(result, message("error", error.message)); }
}

async function route() {
  clearInterval(timer);
  const [page, arg] = location.hash.replace(/^#\/?/, "").split("/");
  const name = arg ? decodeURIComponent(arg) : "";
  if (page === "dlq" && name) return showDeadLetters(name);
  if (page === "replay" && name) return showReplay(name);
  if (page === "journey") return showJourney(name);
  return showServices();
}

async function start() {
  config = await getJson("/api/config");
  document.getElementById("mode").textContent = config.allow_actions ? "actions allowed (token needed)" : "read-only";
  window.addEventListener("hashchange", route);
  route();
}

start();
