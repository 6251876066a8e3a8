// The sale screen: the basket, the shopper and the trip, the live verdict (a debounced quote
// for the chosen pickup and one for each other mode, to say which the policy allows), and
// the commit, exactly once per basket.
//
// The basket lives in this tab's sessionStorage with its Idempotency-Key, made when the basket
// starts and kept until the sale is confirmed: a retry after a network error, a double press
// or a reload sends the same key and the same bytes, and the server answers the first sale
// again. Sign-out and a confirmed sale clear it.

import { call, LANGUAGE, NetworkError, problemText, sendOnce } from "./api.js";
import { T, cents, count, decimal, el, fmt, money, name, newKey, page, residentId, stored } from "./util.js";

const STORAGE = stored("basket");
const PICKUPS = Array.from(document.querySelectorAll("input[name=pickup]"), (input) => input.value);
// Violations that say a pickup mode is not for this shopper or basket (the others are the
// basket's whatever the mode).
const PICKUP_CODES = new Set(["pickup_not_allowed", "immediate_pickup_limit_exceeded", "trip_required"]);

const $ = (id) => document.getElementById(id);
const fields = {
  docType: $("doc-type"), country: $("doc-country"), number: $("doc-number"), name: $("shopper-name"),
  birthDate: $("birth-date"), resident: $("resident"), mode: $("trip-mode"), kind: $("trip-kind"),
  carrier: $("carrier"), departsAt: $("departs-at"),
};

function fresh() {
  return {
    key: newKey(),
    lines: [], // {sku, name_zh, name_en, quantity, unit_price, category}
    selected: -1,
    shopper: { doc_type: "resident_id", country: "CHN", number: "", name: "", birth_date: "", hainan_resident: false },
    trip: { mode: "air", kind: "domestic", carrier_ref: "", departs_at: "" },
    pickup: PICKUPS[0],
    pending: null, // {path, body, key}: a commit whose outcome is not known yet
  };
}

export let state = load();
let policy = null; // GET /api/v1/policy: the names of categories and immediate-pickup kinds
let onSold = () => {};

function load() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE));
    if (stored && Array.isArray(stored.lines) && stored.key) return { ...fresh(), ...stored };
  } catch (error) {
    /* a damaged entry: start afresh */
  }
  return fresh();
}

function save() {
  sessionStorage.setItem(STORAGE, JSON.stringify(state));
}

export function forget() {
  sessionStorage.removeItem(STORAGE);
}

// --- What the API is sent --------------------------------------------------------------------
function shopperBody() {
  const s = state.shopper;
  return {
    document: { type: s.doc_type, number: s.number.trim(), country: (s.country || "CHN").trim().toUpperCase() },
    name: s.name.trim(),
    birth_date: s.birth_date || null,
    hainan_resident: s.hainan_resident,
  };
}

function tripBody() {
  const t = state.trip;
  if (!t.carrier_ref.trim() && !t.departs_at) return undefined; // a purchase without a trip
  return {
    mode: t.mode,
    kind: t.kind,
    carrier_ref: t.carrier_ref.trim().toUpperCase(),
    departs_at: t.departs_at ? `${t.departs_at}:00+08:00` : null,
  };
}

function basketBody(pickup = state.pickup) {
  const body = { shopper: shopperBody() };
  const trip = tripBody();
  if (trip) body.trip = trip;
  body.pickup = pickup;
  body.lines = state.lines.map((line) => ({ sku: line.sku, quantity: line.quantity }));
  return body;
}

// --- The basket ----------------------------------------------------------------------------
const scanMessage = $("scan-message");

function say(node, text, kind = "") {
  node.textContent = text;
  node.className = `message ${kind}`;
}

function addProduct(product, quantity = 1) {
  if (locked()) return;
  const at = state.lines.findIndex((line) => line.sku === product.sku);
  if (at >= 0) {
    state.lines[at].quantity += quantity;
    state.selected = at;
  } else {
    state.lines.push({
      sku: product.sku, name_zh: product.name_zh, name_en: product.name_en,
      quantity, unit_price: product.retail_price, category: product.category,
    });
    state.selected = state.lines.length - 1;
  }
  say(scanMessage, fmt(T.added, { name: name(product) }), "ok");
  changed();
}

async function findCode(code) {
  const asked = [];
  if (/^\d{6,14}$/.test(code)) asked.push(`products?barcode=${encodeURIComponent(code)}`);
  asked.push(`products?sku=${encodeURIComponent(code.toUpperCase())}`);
  for (const path of asked) {
    const answer = await call("GET", path);
    if (answer.status === 200 && answer.data.results.length) return answer.data.results[0];
  }
  return null;
}

async function scan(code) {
  code = code.trim();
  // "12*code" (or 12×code) adds twelve at once, as at any till: no twelve presses of +.
  const times = /^(\d{1,3})\s*[*×]\s*(\S.*)$/.exec(code);
  const quantity = times ? Number(times[1]) : 1;
  if (times) code = times[2];
  if (!code || quantity < 1) return;
  try {
    const product = await findCode(code);
    if (product) addProduct(product, quantity);
    else say(scanMessage, fmt(T.unknown_code, { code }), "bad");
  } catch (error) {
    say(scanMessage, T.offline_lookup, "bad");
  }
}

async function search(words) {
  const list = $("search-results");
  list.replaceChildren();
  if (!words.trim()) return;
  try {
    const answer = await call("GET", `products?q=${encodeURIComponent(words.trim())}&page_size=20`);
    if (answer.status !== 200) {
      list.append(el("li", { class: "bad", text: problemText(answer) }));
      return;
    }
    if (!answer.data.results.length) {
      list.append(el("li", { class: "muted", text: fmt(T.nothing_found, { words }) }));
      return;
    }
    for (const product of answer.data.results) {
      list.append(el("li", {},
        el("button", {
          type: "button", class: "result",
          onclick: () => { addProduct(product); list.replaceChildren(); $("search").value = ""; $("scan").focus(); },
        },
        el("span", { class: "result-name", text: name(product) }),
        el("span", { class: "muted small", text: `${product.brand} · ${product.sku}` }),
        el("span", { class: "num", text: money(product.retail_price) }))));
    }
  } catch (error) {
    list.append(el("li", { class: "bad", text: T.offline_lookup }));
  }
}

export function changeQuantity(index, delta) {
  if (locked() || index < 0 || index >= state.lines.length) return;
  const line = state.lines[index];
  line.quantity = Math.max(1, line.quantity + delta);
  state.selected = index;
  changed();
}

export function removeLine(index) {
  if (locked() || index < 0 || index >= state.lines.length) return;
  state.lines.splice(index, 1);
  state.selected = Math.min(index, state.lines.length - 1);
  changed();
}

export function select(delta) {
  if (!state.lines.length) return;
  const at = state.selected < 0 ? (delta > 0 ? 0 : state.lines.length - 1) : state.selected + delta;
  state.selected = Math.max(0, Math.min(state.lines.length - 1, at));
  save();
  renderBasket(lastQuote);
}

// --- Rendering --------------------------------------------------------------------------------
let lastQuote = null; // the chosen pickup's quote answer, for the lines' verdicts

function lineAmount(line) {
  // Shown before the quote answers (and as a fallback): the server's amount replaces it.
  return decimal(cents(line.unit_price) * BigInt(line.quantity));
}

// A click on a line's button redraws the basket (the button goes): the scan field, which also
// drives the basket, takes the focus so the keys go on working.
function clicked(act) {
  act();
  document.getElementById("scan").focus();
}

function violationItems(violations) {
  return violations.map((v) => el("li", { "data-code": v.code, text: v.message }));
}

function renderBasket(quote) {
  const body = document.querySelector("#basket tbody");
  body.replaceChildren();
  state.lines.forEach((line, index) => {
    const judged = quote && quote.lines && quote.lines[index];
    const refused = judged && judged.allowed === false;
    const selected = index === state.selected;
    const row = el("tr", {
      class: `line${refused ? " refused" : ""}${selected ? " selected" : ""}`,
      "data-sku": line.sku, "aria-selected": selected ? "true" : "false",
    },
    el("td", { class: "product" }, el("span", { class: "line-name", text: name(line) }), el("span", { class: "sku muted small", text: `${line.sku} · ${money(line.unit_price)}` })),
    el("td", { text: (judged && judged.category && judged.category.name) || (line.category && line.category.name) || "" }),
    el("td", { class: "num qty" },
      el("button", { type: "button", class: "step", "aria-label": fmt(T.less_of, { name: name(line) }), tabindex: "-1", onclick: () => clicked(() => changeQuantity(index, -1)) }, "−"),
      el("output", { "aria-label": T.quantity, "data-testid": "quantity" }, line.quantity),
      el("button", { type: "button", class: "step", "aria-label": fmt(T.more_of, { name: name(line) }), tabindex: "-1", onclick: () => clicked(() => changeQuantity(index, 1)) }, "+")),
    el("td", { class: "num", text: money((judged && judged.amount) || lineAmount(line)) }),
    el("td", {}, el("button", { type: "button", class: "remove", "aria-label": fmt(T.remove_line, { name: name(line) }), tabindex: "-1", onclick: () => clicked(() => removeLine(index)) }, "×")));
    body.append(row);
    if (refused && judged.violations.length) {
      body.append(el("tr", { class: "line-violations", "data-sku": line.sku },
        el("td", { colspan: "5" }, el("ul", { class: "violations" }, violationItems(judged.violations)))));
    }
  });
  $("basket-empty").hidden = state.lines.length > 0;
  const lines = state.lines.length;
  $("basket-count").textContent = lines === 1 ? T.one_line : lines ? fmt(T.lines_count, { count: lines }) : "";
  const total = quote && quote.total ? quote.total : sumAmounts();
  $("basket-total").textContent = money(total);
}

function sumAmounts() {
  return decimal(state.lines.reduce((total, line) => total + cents(lineAmount(line)), 0n));
}

function fillForm() {
  const s = state.shopper, t = state.trip;
  fields.docType.value = s.doc_type;
  fields.country.value = s.country;
  fields.number.value = s.number;
  fields.name.value = s.name;
  fields.birthDate.value = s.birth_date;
  fields.resident.checked = s.hainan_resident;
  fields.mode.value = t.mode;
  fields.kind.value = t.kind;
  fields.carrier.value = t.carrier_ref;
  fields.departsAt.value = t.departs_at;
  const chosen = document.querySelector(`input[name=pickup][value="${state.pickup}"]`);
  if (chosen) chosen.checked = true;
  residentNote();
}

function residentNote() {
  const note = $("doc-number-note");
  const countryField = fields.country.closest(".field");
  countryField.hidden = state.shopper.doc_type === "resident_id";
  note.className = "note";
  note.textContent = "";
  if (state.shopper.doc_type !== "resident_id") return;
  const id = residentId(state.shopper.number);
  if (!id) return;
  if (!id.valid) {
    note.textContent = id.checkDigit === false ? T.id_check_digit : T.id_invalid;
    note.className = "note bad";
    return;
  }
  note.textContent = fmt(T.id_birth_date, { date: id.birthDate });
  note.className = "note ok";
}

function readForm(event) {
  const s = state.shopper, t = state.trip;
  s.doc_type = fields.docType.value;
  s.country = fields.country.value;
  s.number = fields.number.value;
  s.name = fields.name.value;
  s.hainan_resident = fields.resident.checked;
  if (s.doc_type === "resident_id") s.country = "CHN";
  const id = s.doc_type === "resident_id" ? residentId(s.number) : null;
  if (id && id.valid && event && event.target === fields.number) {
    fields.birthDate.value = id.birthDate; // the number carries it
  }
  s.birth_date = fields.birthDate.value;
  t.mode = fields.mode.value;
  t.kind = fields.kind.value;
  t.carrier_ref = fields.carrier.value;
  t.departs_at = fields.departsAt.value;
  const chosen = document.querySelector("input[name=pickup]:checked");
  if (chosen) state.pickup = chosen.value;
  residentNote();
  changed();
}

// --- The verdict ---------------------------------------------------------------------------
// What the till can tell before asking the server: the fields still to fill in (the verdict
// waits for them and nothing turns red), and a resident ID whose check digit fails — a typo
// that would open a second quota account for the shopper, refused here beside its field.
function localProblems() {
  const s = state.shopper, t = state.trip;
  const missing = [];
  const need = (node) => missing.push({ node, label: document.querySelector(`label[for="${node.id}"]`).textContent.trim() });
  let wrong = null;
  const id = s.doc_type === "resident_id" && s.number.trim() ? residentId(s.number) : null;
  if (!s.number.trim() || (s.doc_type === "resident_id" && id === null)) need(fields.number);
  else if (id && !id.valid) wrong = { node: fields.number, text: T.fix_document };
  if (!s.name.trim()) need(fields.name);
  if (!s.birth_date) need(fields.birthDate);
  else if (!wrong && id && id.valid && id.birthDate !== s.birth_date) wrong = { node: fields.birthDate, text: T.id_birth_mismatch };
  if (t.carrier_ref.trim() && !t.departs_at) need(fields.departsAt);
  if (!t.carrier_ref.trim() && t.departs_at) need(fields.carrier);
  return { missing, wrong };
}

function localText(local) {
  if (local.wrong) return local.wrong.text;
  return fmt(T.fill_in, { fields: local.missing.map((m) => m.label).join(LANGUAGE === "en" ? ", " : "、") });
}

function hideFigures() {
  $("quota").hidden = true;
  $("trip-limits").hidden = true;
  $("immediate-limits").hidden = true;
}

// A departure far ahead is most often a mistyped year: said beside the field, not refused.
function departsNote() {
  const note = $("departs-at-note");
  note.textContent = "";
  if (!state.trip.departs_at) return;
  const days = Math.floor((Date.parse(`${state.trip.departs_at}:00+08:00`) - Date.now()) / 86400000);
  if (days > 30) note.textContent = fmt(T.departs_far, { days });
}

let quoteTimer = null;
let quoteRound = 0;

function changed() {
  save();
  if (!state.pending && commitStatus.classList.contains("bad")) {
    commitStatus.textContent = ""; // what was refused has changed: the verdict says the rest
    commitStatus.className = "commit-status";
  }
  departsNote();
  renderBasket(null);
  lock();
  clearTimeout(quoteTimer);
  quoteTimer = setTimeout(quoteAll, 300);
}

function clearErrors() {
  for (const node of document.querySelectorAll("#view-sale .error")) node.textContent = "";
  for (const node of document.querySelectorAll("#view-sale .field.invalid")) node.classList.remove("invalid");
}

// 400 errors by field ("shopper.document.number": [...]) beside their fields; lines' beside the
// lines; the rest in the verdict.
function showFieldErrors(errors) {
  const rest = [];
  for (const [field, messages] of Object.entries(errors || {})) {
    const text = messages.join(" ");
    const line = /^lines\.(\d+)/.exec(field);
    let target = document.getElementById(`err-${field.replaceAll(".", "-")}`);
    if (!target && field.startsWith("shopper")) target = $("err-shopper");
    if (!target && field.startsWith("trip")) target = $("err-trip");
    if (line) {
      const row = document.querySelectorAll("#basket tbody tr.line")[Number(line[1])];
      if (row) {
        row.classList.add("refused");
        row.after(el("tr", { class: "line-violations" }, el("td", { colspan: "5" }, el("ul", { class: "violations" }, el("li", { text })))));
        continue;
      }
    }
    if (target) {
      target.textContent = text;
      const wrapper = target.closest(".field");
      if (wrapper) wrapper.classList.add("invalid");
    } else rest.push(text);
  }
  return rest;
}

function verdictStatus(text, kind) {
  const status = $("verdict-status");
  status.textContent = text;
  status.className = `status ${kind}`;
}

async function quoteAll() {
  const round = ++quoteRound;
  clearErrors();
  if (!state.lines.length) {
    lastQuote = null;
    verdictStatus(T.scan_to_start, "");
    $("verdict-violations").replaceChildren();
    hideFigures();
    pickupReasons(null);
    lock();
    return;
  }
  const local = localProblems();
  if (local.missing.length || local.wrong) {
    lastQuote = null;
    renderBasket(null);
    verdictStatus(localText(local), local.wrong ? "bad" : "");
    $("verdict-violations").replaceChildren();
    if (local.wrong) local.wrong.node.closest(".field").classList.add("invalid");
    hideFigures();
    pickupReasons(null);
    lock();
    return;
  }
  verdictStatus(T.checking, "busy");
  let answers;
  try {
    answers = await Promise.all(PICKUPS.map((mode) => call("POST", "quotes", { json: basketBody(mode) })));
  } catch (error) {
    if (round !== quoteRound) return;
    verdictStatus(error instanceof NetworkError ? T.offline_quote : String(error), "bad");
    return;
  }
  if (round !== quoteRound) return; // a newer change is being judged
  const chosen = answers[PICKUPS.indexOf(state.pickup)];
  pickupReasons(Object.fromEntries(PICKUPS.map((mode, i) => [mode, answers[i]])));
  renderVerdict(chosen);
}

function renderVerdict(answer) {
  const list = $("verdict-violations");
  list.replaceChildren();
  if (answer.status === 200) {
    lastQuote = answer.data;
    renderBasket(lastQuote);
    const q = lastQuote;
    verdictStatus(q.allowed ? T.allowed : T.refused, q.allowed ? "ok" : "bad");
    list.append(...violationItems(q.violations));
    renderQuota(q.quota, q.total);
    renderCounters($("trip-limits"), q.trip_limits || [], categoryName);
    // Of the fifteen kinds, those this basket holds or this departure already took: the rest
    // would push the commit off a 1024x768 screen and tell the cashier nothing.
    const touched = (q.immediate_limits || []).filter((row) => row.used > 0 || row.requested > 0);
    renderCounters($("immediate-limits"), touched, kindName);
  } else if (answer.status === 400) {
    lastQuote = null;
    renderBasket(null);
    hideFigures(); // the figures of what was judged before are not this basket's
    verdictStatus(T.complete_fields, "bad");
    const rest = showFieldErrors(answer.data && answer.data.errors);
    list.append(...rest.map((text) => el("li", { text })));
    if (!rest.length && !(answer.data && answer.data.errors)) list.append(el("li", { text: problemText(answer) }));
  } else {
    lastQuote = null;
    verdictStatus(problemText(answer), "bad");
  }
  lock();
}

function renderQuota(quota, total) {
  const box = $("quota");
  box.hidden = false;
  $("q-limit").textContent = money(quota.limit);
  $("q-used").textContent = money(quota.used);
  $("q-basket").textContent = money(total);
  $("q-after").textContent = money(quota.remaining_after);
  box.querySelector(".after").classList.toggle("bad", quota.remaining_after.startsWith("-"));
  const limit = Number(quota.limit) || 1; // a width on screen only: never a sum of money
  const used = Math.min(100, (Number(quota.used) / limit) * 100);
  const basket = Math.max(0, Math.min(100 - used, (Number(total) / limit) * 100));
  box.querySelector(".used").style.width = `${used}%`;
  box.querySelector(".basket").style.width = `${basket}%`;
  box.querySelector(".basket").classList.toggle("over", quota.remaining_after.startsWith("-"));
}

function unitText(unit, n) {
  return fmt((T.units && T.units[unit]) || "{count} " + unit, { count: count(n) });
}

function renderCounters(table, rows, label) {
  const body = table.querySelector("tbody");
  body.replaceChildren();
  table.hidden = rows.length === 0;
  for (const row of rows) {
    const over = row.remaining_after < 0;
    body.append(el("tr", { class: over ? "bad" : "", "data-key": row.category || row.kind },
      el("th", { scope: "row", text: label(row) }),
      el("td", { class: "num", text: unitText(row.unit, row.limit) }),
      el("td", { class: "num", text: count(row.used) }),
      el("td", { class: "num", text: count(row.requested) }),
      el("td", { class: "num", text: count(row.remaining_after) })));
  }
}

function categoryName(row) {
  const category = policy && policy.categories.find((c) => c.code === row.category);
  if (!category) return row.category;
  return LANGUAGE === "en" ? category.name_en : category.name_zh;
}

function kindName(row) {
  const kinds = (policy && policy.immediate_pickup && policy.immediate_pickup.kinds) || [];
  const kind = kinds.find((k) => k.code === row.kind);
  if (!kind) return row.kind;
  return LANGUAGE === "en" ? kind.name_en : kind.name_zh;
}

// Each pickup mode the policy allows for this shopper and basket is offered; the others say why.
function pickupReasons(byMode) {
  for (const option of document.querySelectorAll(".pickup-option")) {
    const mode = option.dataset.mode;
    const reason = option.querySelector(".reason");
    const answer = byMode && byMode[mode];
    let reasons = [];
    if (answer && answer.status === 200) {
      reasons = answer.data.violations.filter((v) => PICKUP_CODES.has(v.code)).map((v) => v.message);
    }
    // Only a judged basket tells (an incomplete shopper is a 400 for every mode).
    const offered = !answer || answer.status !== 200 || reasons.length === 0;
    option.classList.toggle("unavailable", !offered);
    // Offered are the modes the policy allows; the one chosen stays chosen (the verdict says
    // why it is refused) until the cashier picks another.
    const input = option.querySelector("input");
    input.dataset.unavailable = offered ? "" : "1";
    input.disabled = locked() || (!offered && !input.checked);
    // Every reason, each once (a line's and the shopper's alike), one to a line.
    reason.textContent = offered ? "" : [...new Set(reasons)].join("\n");
  }
}

// --- Committing -----------------------------------------------------------------------------
const commitButton = $("commit");
const commitStatus = $("commit-status");

function locked() {
  return Boolean(state.pending);
}

function lock() {
  const pending = locked();
  document.getElementById("view-sale").classList.toggle("pending", pending);
  for (const node of document.querySelectorAll("#view-sale input, #view-sale select, #view-sale .basket button")) {
    node.disabled = pending || (node.dataset.unavailable === "1" && !node.checked);
  }
  const refused = lastQuote && !lastQuote.allowed;
  commitButton.disabled = pending || !state.lines.length;
  commitButton.setAttribute("aria-describedby", refused ? "verdict-status" : "commit-status");
  $("new-basket").disabled = pending;
}

export async function commit() {
  if (locked() || !state.lines.length) return;
  const local = localProblems();
  if (local.missing.length || local.wrong) {
    commitStatus.className = "commit-status bad";
    commitStatus.textContent = localText(local);
    (local.wrong ? local.wrong.node : local.missing[0].node).focus();
    return;
  }
  clearTimeout(quoteTimer);
  state.pending = { path: "sales", body: JSON.stringify(basketBody()), key: state.key };
  save();
  lock();
  await drive();
}

// The pending sale, until its outcome is known (also after a reload: main.js calls it).
export async function drive() {
  if (!state.pending) return;
  lock();
  commitStatus.className = "commit-status busy";
  commitStatus.textContent = T.committing;
  const answer = await sendOnce(state.pending, (attempt, seconds) => {
    commitStatus.className = "commit-status unknown";
    commitStatus.textContent = fmt(T.outcome_unknown, { seconds, attempt });
  });
  if (answer === null) return; // signed out: the sale stays pending for after the sign-in
  if (answer.status === 201) {
    const sold = { sale: answer.data, replayed: answer.replayed, names: {}, trip: tripBody() || null };
    for (const line of state.lines) sold.names[line.sku] = { name_zh: line.name_zh, name_en: line.name_en };
    state = fresh();
    save();
    commitStatus.textContent = "";
    say(scanMessage, ""); // the next customer's basket starts with nothing said
    fillForm();
    renderBasket(null);
    lastQuote = null;
    quoteAll();
    onSold(sold);
    return;
  }
  // Refused, or malformed: nothing was written. The basket stays to be put right, under a new
  // key (a changed basket under the old one would be refused as a reused key).
  state.pending = null;
  state.key = newKey();
  save();
  commitStatus.className = "commit-status bad";
  commitStatus.textContent = answer.status === 422 && answer.data && answer.data.code === "purchase_not_allowed" ? T.sale_refused : problemText(answer);
  if (answer.status === 422 && answer.data && answer.data.violations) {
    renderVerdict({ status: 200, data: { ...(lastQuote || {}), allowed: false, violations: answer.data.violations, lines: (lastQuote && lastQuote.lines) || [], quota: (lastQuote && lastQuote.quota) || null, total: (lastQuote && lastQuote.total) || sumAmounts() } });
  } else if (answer.status === 400) {
    renderVerdict(answer);
  }
  lock();
  $("verdict").scrollIntoView({ block: "start" }); // at 1024x768 it may be below the fold
  quoteAll();
}

export function newBasket(confirmed) {
  if (locked()) return;
  if (state.lines.length && !confirmed) return;
  state = fresh();
  save();
  fillForm();
  say(scanMessage, "");
  commitStatus.textContent = "";
  changed();
  $("scan").focus();
}

export function hasLines() {
  return state.lines.length > 0;
}

// --- Wiring ---------------------------------------------------------------------------------
export async function start({ sold }) {
  onSold = sold;
  fillForm();
  renderBasket(null);
  $("scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("scan");
    const code = input.value;
    input.value = "";
    scan(code);
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("search").value);
  });
  $("search").addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      const first = document.querySelector("#search-results button");
      if (first) { event.preventDefault(); first.focus(); }
    }
  });
  $("search-results").addEventListener("keydown", (event) => {
    const buttons = Array.from(document.querySelectorAll("#search-results button"));
    const at = buttons.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < buttons.length - 1) { event.preventDefault(); buttons[at + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? buttons[at - 1] : $("search")).focus(); }
  });
  // The scan field also drives the basket while it is empty: arrows choose a line, + and -
  // change its quantity, Delete removes it.
  $("scan").addEventListener("keydown", (event) => {
    if (event.target.value) return;
    const keys = { ArrowUp: () => select(-1), ArrowDown: () => select(1), "+": () => changeQuantity(state.selected, 1), "-": () => changeQuantity(state.selected, -1), Delete: () => removeLine(state.selected) };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });
  for (const input of document.querySelectorAll("#shopper input, #shopper select, #trip input, #trip select, input[name=pickup]")) {
    input.addEventListener(input.type === "checkbox" || input.type === "radio" || input.tagName === "SELECT" ? "change" : "input", readForm);
  }
  commitButton.addEventListener("click", commit);
  try {
    const answer = await call("GET", "policy");
    if (answer.status === 200) policy = answer.data;
  } catch (error) {
    /* names fall back to codes */
  }
  if (state.pending) drive();
  else quoteAll();
}
