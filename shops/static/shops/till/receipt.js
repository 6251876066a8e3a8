// The printed papers: the receipt and pickup slip of a sale, and the terminal's X report.
// Built from API answers; the receipt number also as a QR code (qrcode-generator, vendored),
// which the after-sale screen's scan field reads back.

import qrcode from "../vendor/qrcode-generator/qrcode.mjs";
import { T, el, fmt, localTime, money, name, page } from "./util.js";

export function qrSvg(text) {
  const code = qrcode(0, "M");
  code.addData(text);
  code.make();
  const holder = el("div", { class: "qr", role: "img", "aria-label": fmt(T.qr_label, { receipt: text }) });
  // The library's SVG: a rect and a path with presentation attributes, no style (CSP).
  holder.innerHTML = code.createSvgTag({ cellSize: 3, margin: 4, scalable: true });
  return holder;
}

function pickupText(pickup) {
  return (T.pickups && T.pickups[pickup]) || pickup;
}

// Where the goods are collected, for the slip: from the pickup mode and, at departure, the trip.
function collectText(sale, trip) {
  const where = (T.collect && T.collect[sale.pickup]) || "";
  if (sale.pickup !== "departure" || !trip) return where;
  const mode = (T.trip_modes && T.trip_modes[trip.mode]) || trip.mode;
  return `${where} ${fmt(T.collect_trip, { mode, carrier: trip.carrier_ref, departs: localTime(trip.departs_at) })}`;
}

function customsText(customs) {
  if (!customs) return T.customs.pending;
  const text = T.customs[customs.status] || customs.status;
  return customs.at ? `${text} ${localTime(customs.at)}` : text;
}

// ``sold``: {sale (an answer of POST or GET /sales), names ({sku: {name_zh, name_en}}), trip,
// replayed}; ``duplicate``: a reprint.
export function renderReceipt(node, sold, { duplicate = false } = {}) {
  const sale = sold.sale;
  const training = sale.training || page.training === "1";
  const quota = sale.quota;
  node.replaceChildren(...[
    training ? el("p", { class: "stamp training-stamp", "data-testid": "receipt-training", text: T.training_stamp }) : null,
    duplicate ? el("p", { class: "stamp duplicate-stamp", "data-testid": "receipt-duplicate", text: T.duplicate_stamp }) : null,
    sale.status === "voided" ? el("p", { class: "stamp void-stamp", text: T.voided_stamp }) : null,
    el("header", {},
      el("h1", { text: T.receipt_title }),
      el("p", { class: "store", text: page.storeName }),
      el("p", { class: "small", text: `${T.store} ${sale.store} · ${T.terminal} ${sale.terminal}` })),
    el("div", { class: "receipt-id" },
      qrSvg(sale.receipt_no),
      el("dl", {},
        el("dt", { text: T.receipt_no }), el("dd", { class: "receipt-no", "data-testid": "receipt-no", text: sale.receipt_no }),
        el("dt", { text: T.sold_at }), el("dd", { text: localTime(sale.sold_at) }))),
    el("table", { class: "receipt-lines" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: T.product }),
        el("th", { scope: "col", class: "num", text: T.quantity }),
        el("th", { scope: "col", class: "num", text: T.amount }))),
      el("tbody", {}, sale.lines.map((line) => el("tr", {},
        el("td", {},
          el("span", { text: name(sold.names && sold.names[line.sku]) || line.sku }),
          el("span", { class: "small block", text: `${line.sku} · ${line.category.name} · ${money(line.unit_price)}` }),
          line.returned_quantity ? el("span", { class: "small block", text: fmt(T.returned_qty, { count: line.returned_quantity }) }) : null),
        el("td", { class: "num", text: line.quantity }),
        el("td", { class: "num", text: money(line.amount) })))),
      el("tfoot", {},
        el("tr", {}, el("th", { scope: "row", colspan: "2", text: T.total }), el("td", { class: "num total", text: money(sale.total) })),
        sale.returned_amount && sale.returned_amount !== "0.00"
          ? el("tr", {}, el("th", { scope: "row", colspan: "2", text: T.returned }), el("td", { class: "num", text: money(sale.returned_amount) }))
          : null)),
    el("dl", { class: "receipt-facts" },
      el("dt", { text: T.pickup }), el("dd", { text: pickupText(sale.pickup) }),
      el("dt", { text: T.collect_where }), el("dd", { text: collectText(sale, sold.trip) }),
      quota ? el("dt", { text: fmt(T.quota_after, { year: quota.year }) }) : null,
      quota ? el("dd", { "data-testid": "receipt-quota", text: fmt(T.quota_after_value, { remaining: money(quota.remaining), limit: money(quota.limit) }) }) : null,
      el("dt", { text: T.customs_status }), el("dd", { "data-testid": "receipt-customs", text: training ? T.customs.training : customsText(sale.customs) })),
    el("p", { class: "small footnote", text: training ? T.training_footnote : T.receipt_footnote }),
  ].filter(Boolean));
}

export function renderReport(node, report) {
  const tally = (t) => `${t.count} · ${money(t.amount)}`;
  // Three tallies side by side: the count above its amount, so the columns never run together.
  const tallyCell = (t) => el("td", { class: "num tally" },
    el("span", { class: "block", text: t.count }), el("span", { class: "block small", text: money(t.amount) }));
  node.replaceChildren(...[
    report.training ? el("p", { class: "stamp training-stamp", text: T.training_stamp }) : null,
    el("header", {},
      el("h1", { text: T.report_title }),
      el("p", { class: "store", text: page.storeName }),
      el("p", { class: "small", text: `${T.store} ${report.store} · ${T.terminal} ${report.terminal}` }),
      el("p", { class: "small", text: fmt(T.report_day, { day: report.date, at: localTime(report.generated_at) }) })),
    el("table", { class: "receipt-lines report-totals" },
      el("tbody", {},
        el("tr", {}, el("th", { scope: "row", text: T.sales }), el("td", { class: "num", "data-testid": "report-sales", text: tally(report.sales) })),
        el("tr", {}, el("th", { scope: "row", text: T.returns }), el("td", { class: "num", "data-testid": "report-returns", text: tally(report.returns) })),
        el("tr", {}, el("th", { scope: "row", text: T.voids }), el("td", { class: "num", "data-testid": "report-voids", text: tally(report.voids) }))),
      el("tfoot", {}, el("tr", {}, el("th", { scope: "row", text: T.net }), el("td", { class: "num total", "data-testid": "report-net", text: money(report.net) })))),
    el("h2", { text: T.by_pickup }),
    report.by_pickup.length
      ? el("table", { class: "receipt-lines" },
        el("thead", {}, el("tr", {},
          el("th", { scope: "col", text: T.pickup }),
          el("th", { scope: "col", class: "num", text: T.sales }),
          el("th", { scope: "col", class: "num", text: T.returns }),
          el("th", { scope: "col", class: "num", text: T.voids }))),
        el("tbody", {}, report.by_pickup.map((row) => el("tr", {},
          el("th", { scope: "row", text: pickupText(row.pickup) }),
          tallyCell(row.sales), tallyCell(row.returns), tallyCell(row.voids)))))
      : el("p", { class: "muted", text: T.report_empty }),
    el("p", { class: "small footnote", text: T.report_footnote }),
  ].filter(Boolean));
}
