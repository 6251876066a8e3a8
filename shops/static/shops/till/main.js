// The cashier screen: three screens (sale, find a sale, X report) and the receipt, every action
// on a key shown on screen. The modules: api.js (the public API), sale.js (basket, verdict,
// commit once), after.js (after the sale), receipt.js (what is printed), util.js.

import * as after from "./after.js";
import { call, problemText } from "./api.js";
import { renderReceipt, renderReport } from "./receipt.js";
import * as sale from "./sale.js";
import { T, page, stored, today } from "./util.js";

const $ = (id) => document.getElementById(id);
const RECEIPT = stored("receipt"); // the last sale's receipt, for a reload (no shopper in it)
let view = "sale";
let shownReceipt = null;

function showView(name) {
  view = name;
  for (const section of document.querySelectorAll("main > .view")) section.hidden = section.id !== `view-${name}`;
  for (const button of document.querySelectorAll("nav.views button")) {
    if (button.dataset.view === name || (name === "receipt" && button.dataset.view === "sale")) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  document.body.dataset.view = name;
}

function paper() {
  const value = localStorage.getItem("till.paper") || "80";
  $("paper").value = value;
  document.body.classList.toggle("paper-80", value === "80");
  document.body.classList.toggle("paper-a4", value === "a4");
}

async function showReceipt(sold, { duplicate = false } = {}) {
  shownReceipt = { sold, duplicate };
  sessionStorage.setItem(RECEIPT, JSON.stringify(shownReceipt));
  renderReceipt($("receipt"), sold, { duplicate });
  $("receipt-note").textContent = sold.replayed ? T.replayed_sale : duplicate ? T.duplicate_note : T.sale_done;
  $("receipt-note").className = `message ${sold.replayed || duplicate ? "" : "ok"}`;
  showView("receipt");
  $("receipt-done").focus();
  if (!sold.sale.customs) {
    // The customs status is in the sale as it stands (GET), not in the first answer.
    try {
      const answer = await call("GET", `sales/${sold.sale.id}`);
      if (answer.status === 200 && shownReceipt && shownReceipt.sold === sold) {
        sold.sale = { ...sold.sale, customs: answer.data.customs, training: answer.data.training };
        renderReceipt($("receipt"), sold, { duplicate });
        sessionStorage.setItem(RECEIPT, JSON.stringify(shownReceipt));
      }
    } catch (error) {
      /* printed as pending */
    }
  }
}

function receiptDone() {
  shownReceipt = null;
  sessionStorage.removeItem(RECEIPT);
  showView("sale");
  $("scan").focus();
}

async function showReport() {
  showView("report");
  const day = $("report-date").value || today();
  $("report-date").value = day;
  const answer = await call("GET", `terminal-report?date=${day}`).catch(() => null);
  if (answer && answer.status === 200) renderReport($("report"), answer.data);
  else $("report").textContent = answer ? problemText(answer) : T.offline_lookup;
  $("report-date").focus();
}

function focusSale(id) {
  if (view !== "sale") showView("sale");
  const node = $(id) || document.querySelector(id);
  if (node) node.focus();
}

function typing(target) {
  return target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
}

async function newBasket() {
  if (!sale.hasLines()) return sale.newBasket(true);
  const { confirmDialog } = after;
  if (await confirmDialog(T.confirm_new_basket, document.createTextNode(T.confirm_new_basket_note), T.new_basket)) sale.newBasket(true);
  else $("scan").focus();
}

const keys = {
  F2: () => (view === "receipt" ? receiptDone() : focusSale("scan")),
  F3: () => focusSale("search"),
  F4: () => focusSale("doc-type"),
  F6: () => focusSale("carrier"),
  F7: () => focusSale("input[name=pickup]:checked"),
  F8: () => { showView("after"); after.loadToday(); after.focusFind(); },
  F9: () => { if (view === "sale") sale.commit(); },
  F10: () => showReport(),
};

document.addEventListener("keydown", (event) => {
  if ($("confirm").open) return; // the dialog answers Enter and Esc itself
  if (keys[event.key]) {
    event.preventDefault();
    keys[event.key]();
    return;
  }
  if (event.altKey && (event.key === "n" || event.key === "N")) {
    event.preventDefault();
    if (view === "sale") newBasket();
    return;
  }
  if (event.key === "Escape" && view !== "sale") {
    event.preventDefault();
    if (view === "receipt") receiptDone();
    else focusSale("scan");
    return;
  }
  // Ctrl+P prints the paper on screen, from any field (the report's day has the focus).
  if ((view === "receipt" || view === "report") && event.ctrlKey && (event.key === "p" || event.key === "P")) {
    event.preventDefault();
    window.print();
    return;
  }
  if (view === "receipt" && event.key === "Enter" && !typing(event.target) && event.target.id !== "print-receipt") {
    event.preventDefault();
    receiptDone();
    return;
  }
  // A scanner reading the next customer's first product types into the receipt screen: its
  // first character starts the next sale in the scan field, and the rest (and Enter) follow.
  if (view === "receipt" && !typing(event.target) && event.key.length === 1 && !event.ctrlKey && !event.altKey && !event.metaKey) {
    event.preventDefault();
    receiptDone();
    $("scan").value += event.key;
  }
});

for (const button of document.querySelectorAll("nav.views button")) {
  button.addEventListener("click", () => keys[{ sale: "F2", after: "F8", report: "F10" }[button.dataset.view]]());
}
$("new-basket").addEventListener("click", newBasket);
$("print-receipt").addEventListener("click", () => window.print());
$("print-report").addEventListener("click", () => window.print());
$("receipt-done").addEventListener("click", receiptDone);
$("report-date").addEventListener("change", showReport);
$("paper").addEventListener("change", () => { localStorage.setItem("till.paper", $("paper").value); paper(); });
// Signing out forgets what this tab holds of the shift (the basket, a shopper as typed) — but
// never a sale or an action whose outcome is not known yet: that one is asked again first.
$("sign-out").addEventListener("submit", (event) => {
  if (sale.state.pending || after.pending()) {
    event.preventDefault();
    $("commit-status").className = "commit-status unknown";
    $("commit-status").textContent = T.sign_out_pending;
    showView("sale");
    return;
  }
  sale.forget();
  sessionStorage.removeItem(RECEIPT);
});

// Printed once, the receipt on screen is the original no more: a second print says DUPLICATE.
window.addEventListener("afterprint", () => {
  if (view !== "receipt" || !shownReceipt || shownReceipt.duplicate) return;
  shownReceipt.duplicate = true;
  sessionStorage.setItem(RECEIPT, JSON.stringify(shownReceipt));
  renderReceipt($("receipt"), shownReceipt.sold, { duplicate: true });
});

// Started without a top-level await: the page has loaded (and says so) while the modules still
// ask the API for the policy and the first verdict.
async function start() {
  paper();
  $("scan").focus();
  await sale.start({ sold: (sold) => showReceipt(sold) });
  await after.start({ reprint: (sold) => showReceipt(sold, { duplicate: true }) });
  const kept = JSON.parse(sessionStorage.getItem(RECEIPT) || "null");
  if (kept && !sale.state.pending) showReceipt(kept.sold, { duplicate: kept.duplicate });
}

start();
