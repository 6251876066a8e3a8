// After the sale: find a sale by its receipt (scanned or typed) or in today's list, then return
// lines, void it, hand the goods over or print it again; and record a shopper's departure.
// Each write is confirmed first, then sent once: its key and bytes are kept in sessionStorage
// until its outcome is known, so a network error or a reload asks again, never twice.

import { call, problemText, sendOnce } from "./api.js";
import { T, cents, decimal, el, fmt, localTime, money, name, newKey, page, stored, today } from "./util.js";

const STORAGE = stored("action");
const $ = (id) => document.getElementById(id);
let current = null; // the sale shown (GET answer)
let names = {}; // sku → product names, for the lines
let onReprint = () => {};
let nextPage = null;

export function confirmDialog(title, body, okText) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-body").replaceChildren(...(Array.isArray(body) ? body : [body]));
  $("confirm-ok").replaceChildren(el("kbd", { text: "Enter" }), ` ${okText}`);
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-ok").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

async function loadNames(sale) {
  const wanted = sale.lines.map((line) => line.sku).filter((sku) => !(sku in names));
  if (!wanted.length) return;
  try {
    const answer = await call("GET", `products?sku=${encodeURIComponent(wanted.join(","))}&page_size=200`);
    if (answer.status === 200) for (const product of answer.data.results) names[product.sku] = product;
  } catch (error) {
    /* the SKU stands in for the name */
  }
}

const statusText = (sale) => (sale.status === "voided" ? T.status_voided : sale.picked_up_at ? T.status_picked_up : T.status_completed);

export async function loadToday(more = false) {
  const body = document.querySelector("#today tbody");
  if (!more) { body.replaceChildren(); nextPage = null; }
  const path = more && nextPage ? nextPage.replace(/^.*\/api\/v1\//, "") : `sales?date=${today()}&page_size=50`;
  try {
    const answer = await call("GET", path);
    if (answer.status !== 200) return;
    for (const sale of answer.data.results) {
      body.append(el("tr", {},
        el("td", { text: localTime(sale.sold_at).slice(11) }),
        el("td", {}, el("button", { type: "button", class: "link", "data-receipt": sale.receipt_no, onclick: () => show(sale) }, sale.receipt_no)),
        el("td", { text: (T.pickups && T.pickups[sale.pickup]) || sale.pickup }),
        el("td", { class: "num", text: money(sale.total) }),
        el("td", { text: `${statusText(sale)}${sale.training ? ` · ${T.training_short}` : ""}` })));
    }
    if (!answer.data.results.length && !more) body.append(el("tr", {}, el("td", { colspan: "5", class: "muted", text: T.no_sales_today })));
    nextPage = answer.data.next;
    $("today-more").hidden = !nextPage;
  } catch (error) {
    body.append(el("tr", {}, el("td", { colspan: "5", class: "bad", text: T.offline_lookup })));
  }
}

async function find(receipt) {
  const message = $("find-message");
  message.textContent = "";
  receipt = receipt.trim().toUpperCase(); // receipt numbers are upper case; a typed one may not be
  if (!receipt) return;
  try {
    const answer = await call("GET", `sales?receipt_no=${encodeURIComponent(receipt)}`);
    if (answer.status === 200 && answer.data.results.length) {
      show(answer.data.results[0]);
      return;
    }
    message.textContent = answer.status === 200 ? fmt(T.no_such_receipt, { receipt }) : problemText(answer);
    message.className = "message bad";
  } catch (error) {
    message.textContent = T.offline_lookup;
    message.className = "message bad";
  }
}

async function refresh() {
  loadToday();
  if (!current) return;
  const answer = await call("GET", `sales/${current.id}`);
  if (answer.status === 200) await show(answer.data);
}

export async function show(sale) {
  current = sale;
  await loadNames(sale);
  const detail = $("sale-detail");
  const open = sale.status !== "voided";
  const returnable = sale.lines.filter((line) => line.quantity - line.returned_quantity > 0);
  detail.replaceChildren(...[
    el("h2", { text: fmt(T.sale_title, { receipt: sale.receipt_no }) }),
    el("p", { class: "muted", text: `${localTime(sale.sold_at)} · ${(T.pickups && T.pickups[sale.pickup]) || sale.pickup} · ${statusText(sale)}${sale.training ? ` · ${T.training_short}` : ""}` }),
    el("table", { class: "list" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: T.product }),
        el("th", { scope: "col", class: "num", text: T.quantity }),
        el("th", { scope: "col", class: "num", text: T.returned }),
        el("th", { scope: "col", class: "num", text: T.amount }),
        open ? el("th", { scope: "col", class: "num", text: T.return_now }) : null)),
      el("tbody", {}, sale.lines.map((line) => {
        const left = line.quantity - line.returned_quantity;
        return el("tr", {},
          el("td", {}, el("span", { text: name(names[line.sku]) || line.sku }), el("span", { class: "small block muted", text: line.sku })),
          el("td", { class: "num", text: line.quantity }),
          el("td", { class: "num", text: line.returned_quantity }),
          el("td", { class: "num", text: money(line.amount) }),
          open ? el("td", { class: "num" }, left > 0
            ? el("input", { type: "number", min: "0", max: String(left), value: "0", class: "return-qty", "data-line": String(line.id), "aria-label": fmt(T.return_qty_label, { name: name(names[line.sku]) || line.sku, left }) })
            : "—") : null);
      }))),
    el("p", { class: "muted", text: `${T.total} ${money(sale.total)} · ${T.returned} ${money(sale.returned_amount)} · ${fmt(T.quota_after, { year: sale.quota.year })} ${money(sale.quota.remaining)}` }),
    open && returnable.length ? el("div", { class: "field" },
      el("label", { for: "return-reason", text: T.return_reason }),
      el("input", { id: "return-reason", maxlength: "500" })) : null,
    el("div", { class: "actions wrap" },
      open && returnable.length ? el("button", { type: "button", id: "do-return", onclick: doReturn }, T.do_return) : null,
      open && !sale.picked_up_at ? el("button", { type: "button", id: "do-void", onclick: doVoid }, T.do_void) : null,
      open && !sale.picked_up_at ? el("button", { type: "button", id: "do-pickup", onclick: doPickup }, T.do_pickup) : null,
      el("button", { type: "button", id: "do-reprint", onclick: () => onReprint({ sale, names, trip: sale.trip, replayed: false }) }, T.do_reprint)),
    el("p", { id: "action-message", class: "message", role: "status", "aria-live": "assertive", tabindex: "-1" }),
  ].filter(Boolean));
  if (pending()) busy(true);
  detail.scrollIntoView({ block: "nearest" }); // on a tablet it is below the find field
}

// An action whose outcome is not known yet: while there is one, no other is started (each has
// its own key: a second return confirmed meanwhile would be a second return).
export function pending() {
  return sessionStorage.getItem(STORAGE) !== null;
}

function busy(on) {
  for (const node of document.querySelectorAll("#sale-detail button, #sale-detail input, #departure-form button")) node.disabled = on;
}

// Where an action's outcome is told: the departure form's line, or the sale's (looked up each
// time: showing the sale again draws a new one).
const toldAt = (pending) => $(pending.path === "departures" ? "departure-message" : "action-message");

function tell(node, kind, text) {
  if (!node) return;
  node.className = `message ${kind}`;
  node.textContent = text;
}

async function perform(pending, done) {
  const waiting = JSON.parse(sessionStorage.getItem(STORAGE) || "null");
  if (waiting && waiting.key !== pending.key) {
    tell(toldAt(pending), "unknown", T.action_waiting);
    return;
  }
  sessionStorage.setItem(STORAGE, JSON.stringify(pending));
  busy(true);
  tell(toldAt(pending), "busy", T.sending);
  const answer = await sendOnce(pending, (attempt, seconds) => {
    tell(toldAt(pending), "unknown", fmt(T.action_unknown, { seconds, attempt }));
  });
  if (answer === null) return; // signed out: asked again after the sign-in
  sessionStorage.removeItem(STORAGE);
  busy(false);
  if (answer.status >= 200 && answer.status < 300) {
    await done(answer);
    const departure = pending.path === "departures" && answer.data;
    // A departure that closed no trip is stored, but nothing the cashier expected happened.
    const kind = departure && !departure.matched ? "" : "ok";
    tell(toldAt(pending), kind, [pending.ok, departure && departure.message, answer.replayed && T.replayed_note].filter(Boolean).join(" "));
  } else {
    const errors = pending.path === "departures" ? departureErrors(answer) : errorsText(answer);
    tell(toldAt(pending), "bad", problemText(answer) + errors);
  }
  const told = toldAt(pending);
  if (told) told.focus(); // the button pressed may be gone: the focus goes to what happened
}

// A departure's 400: each error beside its field ("document.number" → err-dep-document-number);
// what has no field of its own is told in the message.
function departureErrors(answer) {
  const rest = [];
  for (const [field, messages] of Object.entries((answer.data && answer.data.errors) || {})) {
    const target = document.getElementById(`err-dep-${field.replaceAll(".", "-")}`);
    if (target) {
      target.textContent = messages.join(" ");
      target.closest(".field").classList.add("invalid");
    } else rest.push(...messages);
  }
  return rest.length ? ` ${rest.join(" ")}` : "";
}

// The errors the problem's own message does not already say (a return's is the same text).
function errorsText(answer) {
  const said = problemText(answer);
  const errors = Object.values((answer.data && answer.data.errors) || {}).flat();
  const more = [...new Set(errors)].filter((text) => !said.includes(text));
  return more.length ? ` ${more.join(" ")}` : "";
}

async function doReturn() {
  const inputs = Array.from(document.querySelectorAll(".return-qty"));
  // Whole pieces, no more than the line still holds: said beside the field, before any dialog.
  const wrong = inputs.find((input) => {
    const value = Number(input.value);
    return input.value.trim() === "" || !Number.isInteger(value) || value < 0 || value > Number(input.max);
  });
  if (wrong) {
    const sold = current.lines.find((l) => String(l.id) === wrong.dataset.line);
    $("action-message").className = "message bad";
    $("action-message").textContent = fmt(T.return_qty_range, { name: name(names[sold.sku]) || sold.sku, left: wrong.max });
    wrong.focus();
    return;
  }
  const lines = inputs
    .map((input) => ({ line: Number(input.dataset.line), quantity: Number(input.value) }))
    .filter((line) => line.quantity > 0);
  if (!lines.length) {
    $("action-message").className = "message bad";
    $("action-message").textContent = T.return_choose;
    return;
  }
  const reason = ($("return-reason") && $("return-reason").value.trim()) || "";
  const summary = lines.map((line) => {
    const sold = current.lines.find((l) => l.id === line.line);
    return el("li", { text: `${name(names[sold.sku]) || sold.sku} × ${line.quantity}` });
  });
  if (!(await confirmDialog(fmt(T.confirm_return, { receipt: current.receipt_no }), [el("ul", {}, summary), el("p", { class: "muted", text: T.confirm_return_note })], T.do_return))) return;
  await perform({ path: `sales/${current.id}/returns`, body: JSON.stringify({ lines, reason }), key: newKey("return"), ok: T.return_done, sale: current.id }, refresh);
}

async function doVoid() {
  // What the void gives back is what the sale still holds: its total less what was returned.
  const held = money(decimal(cents(current.total) - cents(current.returned_amount || "0")));
  if (!(await confirmDialog(fmt(T.confirm_void, { receipt: current.receipt_no }), el("p", { text: fmt(T.confirm_void_note, { total: held }) }), T.do_void))) return;
  await perform({ path: `sales/${current.id}/void`, body: "{}", key: newKey("void"), ok: T.void_done, sale: current.id }, refresh);
}

async function doPickup() {
  if (!(await confirmDialog(fmt(T.confirm_pickup, { receipt: current.receipt_no }), el("p", { text: T.confirm_pickup_note }), T.do_pickup))) return;
  await perform({ path: `sales/${current.id}/pickup`, body: "{}", key: newKey("pickup"), ok: T.pickup_done, sale: current.id }, refresh);
}

async function doDeparture(event) {
  event.preventDefault();
  for (const node of document.querySelectorAll("#departure-form .error")) node.textContent = "";
  for (const node of document.querySelectorAll("#departure-form .field.invalid")) node.classList.remove("invalid");
  // The fields a departure cannot do without, said beside them before the confirmation.
  const empty = [["dep-number", "err-dep-document-number"], ["dep-carrier", "err-dep-carrier_ref"], ["dep-at", "err-dep-departed_at"]]
    .filter(([field]) => !$(field).value.trim());
  for (const [field, error] of empty) {
    $(error).textContent = T.required;
    $(field).closest(".field").classList.add("invalid");
  }
  if (empty.length) {
    $(empty[0][0]).focus();
    return;
  }
  const body = {
    document: { type: $("dep-doc-type").value, number: $("dep-number").value.trim(), country: ($("dep-country").value || "CHN").trim().toUpperCase() },
    carrier_ref: $("dep-carrier").value.trim().toUpperCase(),
    departed_at: $("dep-at").value ? `${$("dep-at").value}:00+08:00` : null,
    mode: $("dep-mode").value,
  };
  if (!(await confirmDialog(T.confirm_departure, el("p", { text: fmt(T.confirm_departure_note, { carrier: body.carrier_ref || "—", at: $("dep-at").value.replace("T", " ") || "—" }) }), T.do_departure))) return;
  await perform({ path: "departures", body: JSON.stringify(body), key: newKey("departure"), ok: T.departure_done }, async () => {});
}

export function focusFind() {
  $("find-receipt").focus();
}

export async function start({ reprint }) {
  onReprint = reprint;
  $("find-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("find-receipt");
    find(input.value);
    input.value = "";
  });
  $("today-more").addEventListener("click", () => loadToday(true));
  $("departure-form").addEventListener("submit", doDeparture);
  // An action whose outcome was unknown when the page went away is asked again.
  const pending = JSON.parse(sessionStorage.getItem(STORAGE) || "null");
  if (pending) {
    if (pending.sale) {
      const answer = await call("GET", `sales/${pending.sale}`);
      if (answer.status === 200) await show(answer.data);
    }
    await perform(pending, refresh);
  }
}
