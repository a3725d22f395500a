// atoconf's configurator page: one native <select> per choice, the values no valid
// assembly allows disabled after every change, "why?" beside each, the count left,
// the cheapest completion, undo and reset, the request in the URL, and a plan panel.
// Everything it knows comes from the JSON API of the same server.
"use strict";

const app = document.getElementById("app");
const NAME = app.dataset.product;
const API = `/api/v1/products/${encodeURIComponent(NAME)}`;
const HAS_STOCK = app.dataset.stock === "true";
const WRITES = app.dataset.writes === "true";
// seconds the page lets a count or the cheapest completion take per change: a click
// must not hold a server worker for long
const QUICK = 2;

let product = null;   // GET /api/v1/products/NAME
let chosen = {};      // the request's select: choice -> value
const undone = [];    // earlier selects, for undo
let asked = 0;        // the latest refresh: older answers are dropped

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// A value as the select's option value: a SKU or enum member as its plain text,
// anything else (null, true, 2) as its JSON text; "" is "not chosen".
function encode(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function decode(choice, text) {
  return choice.values.find((v) => encode(v) === text);
}

function label(choice, value) {
  if (value === null) return "none";
  if (choice.kind === "component") {
    const part = product.parts[value];
    const price = part && part.price !== undefined ? ` (${part.price})` : "";
    return part ? `${value}: ${part.name}${price}` : value;
  }
  return encode(value);
}

async function call(path, body, headers = {}) {
  const answer = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { json = null; }
  return { status: answer.status, text, json };
}

function problems(answer) {
  const found = (answer.json && answer.json.diagnostics) || [];
  return found.map((d) => d.message + (d.hint ? ` (${d.hint})` : "")).join("; ")
    || `the server answered ${answer.status}`;
}

// ---- the choices --------------------------------------------------------------------------

function build() {
  const form = document.getElementById("choices");
  for (const kind of ["component", "quantity", "option"]) {
    const group = el("fieldset", {}, el("legend", {
      text: { component: "Parts", quantity: "Quantities", option: "Options" }[kind],
    }));
    for (const choice of product.choices.filter((c) => c.kind === kind)) {
      const id = `choice-${choice.name}`;
      const select = el("select", { id, name: choice.name },
        el("option", { value: "", text: "(not chosen)" }),
        ...choice.values.map((v) => el("option", { value: encode(v), text: label(choice, v) })));
      select.addEventListener("change", () => choose(choice, select.value));
      const why = el("button", {
        type: "button", class: "why", "aria-controls": `why-${choice.name}`,
        "aria-expanded": "false", text: "why?",
      });
      why.setAttribute("aria-label", `why are some ${choice.name} values unavailable?`);
      why.addEventListener("click", () => toggleWhy(choice, why));
      const panel = el("div", { id: `why-${choice.name}`, class: "why-panel", hidden: true,
        role: "region", "aria-live": "polite" });
      group.append(el("div", { class: "choice" },
        el("label", { for: id, text: choice.name }), select, why, panel));
    }
    if (group.querySelector("select")) form.append(group);
  }
}

function choose(choice, text) {
  undone.push({ ...chosen });
  if (text === "") delete chosen[choice.name];
  else chosen[choice.name] = decode(choice, text);
  refresh();
}

function request() {
  return { select: { ...chosen } };
}

function without(name) {
  const select = { ...chosen };
  delete select[name];
  return { select };
}

// ---- after every change -------------------------------------------------------------------

async function refresh() {
  const mine = ++asked;
  app.dataset.busy = "true";
  try {
    await refreshing(mine);
  } finally {
    if (mine === asked) app.dataset.busy = "false";
  }
}

async function refreshing(mine) {
  const req = request();
  const query = Object.keys(chosen).length ? `?request=${encodeURIComponent(JSON.stringify(req))}` : "";
  window.history.replaceState(null, "", window.location.pathname + query);
  document.getElementById("request-json").textContent = JSON.stringify(req, null, 2);
  document.getElementById("undo").disabled = undone.length === 0;
  for (const select of document.querySelectorAll("#choices select")) {
    const value = chosen[select.name];
    select.value = value === undefined ? "" : encode(value);
  }
  const status = document.getElementById("status");
  status.textContent = "checking…";
  // each choice the user set is judged without it (so it can be switched); the
  // others against the whole request
  const set = Object.keys(chosen);
  const answers = await Promise.all([
    call(`${API}/domains`, req),
    call(`${API}/count`, { ...req, deadline: QUICK }),
    ...set.map((name) => call(`${API}/domains`, without(name))),
  ]);
  if (mine !== asked) return;
  const [whole, counted, ...each] = answers;
  if (whole.status !== 200) {
    status.textContent = problems(whole);
    status.className = "bad";
    return;
  }
  const own = Object.fromEntries(set.map((name, i) => [name, each[i].json]));
  for (const choice of product.choices) {
    const from = own[choice.name] || whole.json;
    const allowed = new Set(((from.domains || {})[choice.name] || []).map(encode));
    const select = document.querySelector(`select[name="${CSS.escape(choice.name)}"]`);
    for (const option of select.options) {
      option.disabled = option.value !== "" && !allowed.has(option.value);
    }
  }
  // the count as the server wrote it: JSON numbers past 2^53 lose digits in JavaScript
  const digits = /"count":\s*(\d+)/.exec(counted.text);
  const exact = counted.json && counted.json.exact;
  let shown = "?";
  if (digits && exact) shown = BigInt(digits[1]).toLocaleString("en");
  else if (counted.json && counted.json.stopped) shown = `too many to count in ${QUICK} s`;
  document.getElementById("count").textContent = shown;
  if (whole.json.satisfiable) {
    status.textContent = whole.json.stopped ? `stopped: ${whole.json.stopped}` : "";
    status.className = "";
    document.getElementById("conflict").hidden = true;
    await cheapest(req, mine);
  } else {
    status.textContent = "No valid assembly for this request.";
    status.className = "bad";
    await explainConflict(req, mine);
  }
}

async function cheapest(req, mine) {
  const panel = document.getElementById("cheapest");
  if (!product.cheapest) { panel.hidden = true; return; }
  const answer = await call(`${API}/cheapest`, { ...req, deadline: QUICK });
  if (mine !== asked) return;
  panel.hidden = false;
  const body = document.getElementById("cheapest-body");
  body.replaceChildren();
  const found = answer.json && answer.json.assemblies && answer.json.assemblies[0];
  if (!found) { body.append(el("p", { text: "none found in time" })); return; }
  const what = product.cheapest === "price" ? "Price" : "Cost of parts";
  body.append(el("p", {}, `${what}: `, el("strong", { id: "cheapest-price", text: found.objective })));
  if (found.unpriced && found.unpriced.length) {
    body.append(el("p", { text: `without supply data (not in the cost): ${found.unpriced.join(", ")}` }));
  }
  body.append(assemblyTable(found));
}

function assemblyTable(assembly) {
  const rows = Object.entries(assembly.components).map(([name, c]) =>
    el("tr", {}, el("td", { text: name }), el("td", { text: c ? c.sku : "none" }),
      el("td", { class: "num", text: c ? `×${c.qty}` : "" })));
  const options = Object.entries(assembly.options).map(([name, v]) =>
    el("tr", {}, el("td", { text: name }), el("td", { text: encode(v) }), el("td")));
  return el("table", {}, el("tbody", {}, ...rows, ...options));
}

function conflictList(items) {
  return el("ul", {}, ...items.map((item) => {
    if (item.kind === "rule") {
      return el("li", {}, `rule ${item.name}: ${item.description || ""} `,
        el("span", { class: "where", text: `${item.file}:${item.line}` }));
    }
    return el("li", { text: `your choice ${item.item}` });
  }));
}

async function explainConflict(req, mine) {
  const answer = await call(`${API}/explain`, req);
  if (mine !== asked) return;
  const panel = document.getElementById("conflict");
  panel.hidden = false;
  const body = document.getElementById("conflict-body");
  body.replaceChildren();
  if (answer.status !== 200) { body.append(el("p", { text: problems(answer) })); return; }
  body.append(el("p", { text: "These cannot all hold:" }), conflictList(answer.json.conflict || []));
  for (const repair of answer.json.repairs || []) {
    body.append(el("p", { text: `Or remove ${repair.remove.join(", ")}.` }));
  }
}

// ---- why? ---------------------------------------------------------------------------------

function toggleWhy(choice, button) {
  const panel = document.getElementById(`why-${choice.name}`);
  const open = panel.hidden;
  panel.hidden = !open;
  button.setAttribute("aria-expanded", String(open));
  if (!open) return;
  panel.replaceChildren();
  const select = document.querySelector(`select[name="${CSS.escape(choice.name)}"]`);
  const disabled = [...select.options].filter((o) => o.disabled);
  if (!disabled.length) {
    panel.append(el("p", { text: `Every ${choice.name} value is still possible.` }));
    return;
  }
  const id = `why-value-${choice.name}`;
  const pick = el("select", { id, class: "why-value" },
    ...disabled.map((o) => el("option", { value: o.value, text: o.textContent })));
  const out = el("div", { class: "why-answer" });
  pick.addEventListener("change", () => whyNot(choice, pick.value, out));
  panel.append(el("label", { for: id, text: "Why not " }), pick, out);
  whyNot(choice, pick.value, out);
  pick.focus();
}

async function whyNot(choice, text, out) {
  out.replaceChildren(el("p", { text: "…" }));
  const body = { request: without(choice.name), choice: choice.name, value: decode(choice, text) };
  const answer = await call(`${API}/why`, body);
  out.replaceChildren();
  if (answer.status !== 200) { out.append(el("p", { text: problems(answer) })); return; }
  if (answer.json.satisfiable) {
    out.append(el("p", { text: "It is possible after all (the answer came after a change)." }));
    return;
  }
  out.append(el("p", { text: "It conflicts with:" }), conflictList(answer.json.conflict || []));
}

// ---- plan and reserve ---------------------------------------------------------------------

async function plan() {
  const out = document.getElementById("plan-body");
  out.replaceChildren(el("p", { text: "planning…" }));
  const answer = await call(`${API}/plan`, { request: request() });
  showPlan(out, answer);
}

async function reserve() {
  const out = document.getElementById("plan-body");
  const orderId = document.getElementById("order-id").value.trim();
  const token = document.getElementById("token").value.trim();
  out.replaceChildren(el("p", { text: "reserving…" }));
  const answer = await call(`${API}/reserve`, { request: request(), order_id: orderId },
    { Authorization: `Bearer ${token}` });
  showPlan(out, answer, true);
}

function showPlan(out, answer, reserved = false) {
  out.replaceChildren();
  if (answer.status !== 200) {
    out.append(el("p", { class: "bad", text: problems(answer) }));
    return;
  }
  const order = answer.json.orders[0];
  const head = { buildable: "Buildable now", short: "Short of parts", impossible: "No valid assembly" };
  out.append(el("p", { class: order.status === "buildable" ? "good" : "bad",
    id: "plan-status", text: `${head[order.status] || order.status}${reserved ? " — reserved" : ""}` }));
  if (order.promise_date) out.append(el("p", { text: `Promise date: ${order.promise_date}` }));
  if (order.cost) out.append(el("p", { text: `Cost: ${order.cost.total}` }));
  if (order.picks.length) {
    out.append(el("h3", { text: "Picks" }), el("table", { id: "picks" }, el("tbody", {},
      ...order.picks.map((p) => el("tr", {}, el("td", { text: p.sku }),
        el("td", { text: p.location }), el("td", { class: "num", text: `×${p.qty}` }))))));
  }
  if (order.shortages.length) {
    out.append(el("h3", { text: "Short" }), el("table", {}, el("tbody", {},
      ...order.shortages.map((s) => el("tr", {}, el("td", { text: s.sku }),
        el("td", { class: "num", text: `×${s.qty}` }),
        el("td", { text: s.lead_days === null ? "lead time unknown" : `${s.lead_days} days` }))))));
  }
  if (order.alternatives.length) {
    out.append(el("h3", { text: "Buildable now instead" }));
    for (const alt of order.alternatives) out.append(assemblyTable(alt.assembly));
  }
}

// ---- start ----------------------------------------------------------------------------------

async function start() {
  const answer = await call(API);
  if (answer.status !== 200) {
    document.getElementById("status").textContent = problems(answer);
    return;
  }
  product = answer.json;
  build();
  const given = new URLSearchParams(window.location.search).get("request");
  if (given) {
    try {
      const parsed = JSON.parse(given);
      for (const choice of product.choices) {
        if (parsed.select && choice.name in parsed.select) {
          const value = decode(choice, encode(parsed.select[choice.name]));
          if (value !== undefined) chosen[choice.name] = value;
        }
      }
    } catch (e) {
      document.getElementById("status").textContent = "the link's request is not JSON";
    }
  }
  document.getElementById("undo").addEventListener("click", () => {
    if (!undone.length) return;
    chosen = undone.pop();
    refresh();
  });
  document.getElementById("reset").addEventListener("click", () => {
    undone.push({ ...chosen });
    chosen = {};
    refresh();
  });
  document.getElementById("plan-panel").hidden = !HAS_STOCK;
  document.getElementById("plan").addEventListener("click", plan);
  document.getElementById("reserve-form").hidden = !WRITES;
  document.getElementById("reserve").addEventListener("click", reserve);
  await refresh();
  app.dataset.ready = "true";
}

start();
