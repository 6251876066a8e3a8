/* The staff sales dashboard: figures from /api/v1/stats/sales (session auth), charts with the
 * vendored Apache ECharts. Every visible string comes from the page (json_script
 * "dashboard-config"), translated by Django. Money arrives as decimal strings and is formatted
 * from the string (no float rounding); parseFloat only feeds chart geometry. */
(function () {
  "use strict";

  var node = document.getElementById("dashboard-config");
  if (!node) return;
  var config = JSON.parse(node.textContent);
  var L = config.labels;
  var english = config.language.indexOf("en") === 0;
  var locale = english ? "en" : "zh-CN";
  var intFormat = new Intl.NumberFormat(locale);
  var compactFormat = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
  // The series' colours; the tooltips' dots have the same in dashboard.css (.tooltip-dot).
  var COLORS = { current: "#0a6e5c", previous: "#9aa0a6" };
  var KIND_COLORS = ["#0a6e5c", "#1a73e8", "#f29900"];
  var charts = [];

  // The language switch keeps the page's state (base.html sends only the path).
  var next = document.querySelector("form.languages input[name=next]");
  if (next) next.value = location.pathname + location.search;

  // --- Formatting -------------------------------------------------------------------------------
  function interpolate(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }

  function groupDigits(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  /** "1234.5" → "¥1,234.50", from the string. */
  function money(text) {
    if (text === null || text === undefined) return "—";
    var value = String(text).trim();
    var negative = value.charAt(0) === "-";
    if (negative) value = value.slice(1);
    var parts = value.split(".");
    var fraction = ((parts[1] || "") + "00").slice(0, 2);
    return (negative ? "-" : "") + "¥" + groupDigits(parts[0] || "0") + "." + fraction;
  }

  /** Fen as a BigInt, from a decimal string with at most two places. */
  function fen(text) {
    var value = String(text).trim();
    var negative = value.charAt(0) === "-";
    if (negative) value = value.slice(1);
    var parts = value.split(".");
    var cents = BigInt(parts[0] || "0") * 100n + BigInt(((parts[1] || "") + "00").slice(0, 2));
    return negative ? -cents : cents;
  }

  var WAN = 10000n * 100n;  // 1 万 yuan, in fen
  var YI = 10000n * WAN;     // 1 亿 yuan, in fen

  /** In Chinese, large amounts also in 万 (from ¥10,000) or 亿 (from ¥100,000,000): "308403.00" →
   * "≈ ¥30.84万", two places, half-up, exact (BigInt fen; never a float). "" in English. */
  function wanYi(text) {
    if (english || text === null || text === undefined) return "";
    var cents = fen(text);
    var negative = cents < 0n;
    if (negative) cents = -cents;
    if (cents < WAN) return "";
    var unit = "万", scale = WAN;
    // Hundredths of the unit, rounded; 9,999.995万 rounds up to 1.00亿, not to 10,000.00万.
    var hundredths = (cents * 100n + scale / 2n) / scale;
    if (hundredths >= 1000000n) {
      unit = "亿"; scale = YI;
      hundredths = (cents * 100n + scale / 2n) / scale;
    }
    var whole = (hundredths / 100n).toString();
    var frac = (hundredths % 100n).toString().padStart(2, "0");
    return "≈ " + (negative ? "-" : "") + "¥" + groupDigits(whole) + "." + frac + unit;
  }

  function count(value) {
    return value === null || value === undefined ? "—" : intFormat.format(value);
  }

  function pct(text) {
    if (text === null || text === undefined) return { text: "—", trend: "none" };
    var value = String(text);
    if (value.charAt(0) === "-") return { text: "−" + value.slice(1) + "%", trend: "down" };
    if (/^0(\.0+)?$/.test(value)) return { text: value + "%", trend: "flat" };
    return { text: "+" + value + "%", trend: "up" };
  }

  function shortDate(iso) { return iso.slice(5); }  // "2026-11-03" → "11-03"

  function stamp(iso) { return iso.slice(0, 16).replace("T", " "); }  // local, as the API says

  // --- Loading -----------------------------------------------------------------------------------
  /** The figures of the page's period, or of ``period`` ({start, end}: the headline's). */
  function load(groupBy, period) {
    period = period || config;
    var query = new URLSearchParams({ start: period.start, end: period.end, align: config.align });
    if (groupBy) query.set("group_by", groupBy);
    return fetch(config.api + "?" + query.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok) {
        var error = new Error("HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      return response.json();
    });
  }

  function failed(section, error) {
    var message = interpolate(L.load_failed, { status: error.status || error.message });
    var banner = document.getElementById("load-error");
    banner.textContent = message;
    banner.hidden = false;
    if (section) {
      var box = section.querySelector(".chart-error");
      box.textContent = message;
      box.hidden = false;
      section.querySelector(".chart").classList.add("failed");
    }
  }

  // --- Headline cards ----------------------------------------------------------------------------
  var MONEY = { amount: true, average_spend: true };
  var MIN_FIGURE_PX = 12;

  /** A figure stays on one line: shrink its font until it fits its card (a nine-digit amount
   * in a fifth of a laptop screen, or half a phone's). */
  function fit(el) {
    el.style.fontSize = "";
    var size = parseFloat(getComputedStyle(el).fontSize);
    while (el.scrollWidth > el.clientWidth && size > MIN_FIGURE_PX) {
      size -= 1;
      el.style.fontSize = size + "px";
    }
  }

  function fitFigures() {
    document.querySelectorAll(".card .value").forEach(fit);
  }

  function cards(totals) {
    document.querySelectorAll(".card[data-figure]").forEach(function (card) {
      var figure = card.dataset.figure;
      var show = MONEY[figure] ? money : count;
      card.querySelector(".value").textContent = show(totals[figure]);
      card.querySelector("[data-role=previous]").textContent = show(totals["previous_" + figure]);
      var approx = card.querySelector("[data-role=approx]");
      if (approx) approx.textContent = wanYi(totals[figure]);
      var growth = pct(totals[figure + "_yoy_pct"]);
      var yoy = card.querySelector("[data-role=yoy]");
      yoy.textContent = L.yoy + " " + growth.text;
      yoy.className = "yoy " + growth.trend;
    });
    fitFigures();
  }

  function status(answer) {
    document.getElementById("as-of").textContent = answer.as_of
      ? interpolate(L.as_of, { time: stamp(answer.as_of) })
      : L.never_refreshed;
  }

  /** The headline's previous period, beside the time of the data. */
  function compared(answer) {
    document.getElementById("compared").textContent =
      "· " + interpolate(L.compared, { start: answer.previous.start, end: answer.previous.end });
  }

  // --- Charts ------------------------------------------------------------------------------------
  function chart(group, height) {
    var el = document.getElementById("chart-" + group);
    if (height) el.style.height = height + "px";
    var instance = echarts.init(el, null, { renderer: "canvas", locale: english ? "EN" : "ZH" });
    // Drawn and done animating (tests and screenshots wait for it).
    instance.on("finished", function () { el.dataset.rendered = "true"; });
    charts.push(instance);
    return instance;
  }

  function moneyAxis() {
    return {
      type: "value",
      axisLabel: { formatter: function (v) { return compactFormat.format(v); } },
      splitLine: { lineStyle: { color: "#eceff1" } },
    };
  }

  /** A tooltip line with its series' dot: coloured by a class of dashboard.css ("current",
   * "previous", "kind-0"…), as the CSP allows no style attribute in the tooltip's HTML. */
  function tooltipRow(dot, label, value) {
    return '<div><span class="tooltip-dot ' + dot + '"></span>' + escapeHtml(label) +
      ": <b>" + escapeHtml(value) + "</b></div>";
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function yoyLine(growth) {
    var g = pct(growth);
    return "<div>" + escapeHtml(L.yoy) + ": " + escapeHtml(g.text) + "</div>";
  }

  function drawDay(answer) {
    var groups = answer.groups;
    var instance = chart("day");
    instance.setOption({
      color: [COLORS.current, COLORS.previous],
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      legend: { top: 0, data: [L.this_period, L.previous] },
      tooltip: {
        trigger: "axis",
        formatter: function (params) {
          var g = groups[params[0].dataIndex];
          return tooltipRow("current", g.key, money(g.amount)) +
            tooltipRow("previous", (g.previous_key || "—") + " (" + L.previous + ")",
              money(g.previous_amount)) +
            yoyLine(g.amount_yoy_pct);
        },
      },
      xAxis: {
        type: "category",
        boundaryGap: false,
        data: groups.map(function (g) { return shortDate(g.key); }),
      },
      yAxis: moneyAxis(),
      series: [
        {
          name: L.this_period, type: "line", showSymbol: groups.length <= 31,
          areaStyle: { opacity: 0.08 },
          data: groups.map(function (g) { return parseFloat(g.amount); }),
        },
        {
          name: L.previous, type: "line", showSymbol: false,
          lineStyle: { type: "dashed" },
          data: groups.map(function (g) { return parseFloat(g.previous_amount); }),
        },
      ],
    });
  }

  function labelWidth(group) {
    var width = document.getElementById("chart-" + group).clientWidth;
    return Math.max(72, Math.min(180, Math.round(width * 0.3)));
  }

  function nameOf(group, key) {
    var names = config.names[group] || {};
    return names[key] || key;
  }

  /** A store's full name (the axis shows its short name); other groups have one name. */
  function fullNameOf(group, key) {
    var names = config.full_names[group] || {};
    return names[key] || nameOf(group, key);
  }

  function drawBars(group, answer, limit) {
    var groups = answer.groups.slice(0, limit);  // the API sorts by amount, largest first
    var rows = groups.slice().reverse();         // largest at the top of a horizontal bar chart
    var instance = chart(group, Math.max(280, rows.length * 44 + 70));
    instance.setOption({
      color: [COLORS.current, COLORS.previous],
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, data: [L.this_period, L.previous] },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (params) {
          var g = rows[params[0].dataIndex];
          return "<div><b>" + escapeHtml(fullNameOf(group, g.key)) + "</b></div>" +
            tooltipRow("current", L.this_period, money(g.amount)) +
            tooltipRow("previous", L.previous, money(g.previous_amount)) +
            yoyLine(g.amount_yoy_pct);
        },
      },
      xAxis: moneyAxis(),
      yAxis: {
        type: "category",
        data: rows.map(function (g) { return nameOf(group, g.key); }),
        // A name longer than its room wraps onto a second line rather than lose its end (two
        // names cut at the same place read alike); beyond two lines, which would run into the
        // next bar, it is cut, and the tooltip names it in full.
        axisLabel: {
          width: labelWidth(group), overflow: "break", lineHeight: 14, height: 28,
          lineOverflow: "truncate",
        },
      },
      series: [
        { name: L.this_period, type: "bar", data: rows.map(function (g) { return parseFloat(g.amount); }) },
        { name: L.previous, type: "bar", data: rows.map(function (g) { return parseFloat(g.previous_amount); }) },
      ],
    });
    empty(group, answer.groups.length === 0);
  }

  /** Each group's share of the total amount, "97.9%", exact from the fen (half-up). */
  function shares(groups) {
    var total = groups.reduce(function (sum, g) { return sum + fen(g.amount); }, 0n);
    var out = {};
    groups.forEach(function (g) {
      if (total === 0n) { out[g.key] = "—"; return; }
      var tenths = (fen(g.amount) * 2000n / total + 1n) / 2n;  // per mille, rounded half-up
      out[g.key] = (tenths / 10n).toString() + "." + (tenths % 10n).toString() + "%";
    });
    return out;
  }

  /** A donut of the amount by traveller kind. Its shares are in the legend, beside the
   * donut on a wide panel and under it on a phone, never on leader lines: no label can run
   * into the legend. The kind pointed at shows its share in the hole. */
  var NARROW_PX = 480;
  var kinds = null;  // the last answer and layout, to lay the donut out again on a resize

  function drawKinds(answer) {
    var groups = answer.groups;
    var el = document.getElementById("chart-traveller_kind");
    var narrow = el.clientWidth < NARROW_PX;
    kinds = { answer: answer, narrow: narrow };
    var share = shares(groups);
    var byName = {};
    groups.forEach(function (g) { byName[nameOf("traveller_kind", g.key)] = g; });
    var instance = chart("traveller_kind", narrow ? 300 + groups.length * 24 : null);
    var base = narrow ? 300 : el.clientHeight;  // the donut's square, above the legend
    var radius = Math.round(Math.min(el.clientWidth * (narrow ? 1 : 0.55), base) * 0.42);
    instance.setOption({
      color: KIND_COLORS,
      legend: {
        orient: "vertical",
        icon: "circle",
        itemGap: 8,
        formatter: function (name) {
          var g = byName[name];
          return name + "  " + (g ? share[g.key] : "");
        },
        textStyle: { fontSize: 13 },
        left: narrow ? "center" : "58%",
        top: narrow ? base : "middle",
      },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var g = groups[p.dataIndex];
          return "<div><b>" + escapeHtml(p.name) + "</b> " +
            escapeHtml(interpolate(L.share_of_amount, { share: share[g.key] })) + "</div>" +
            tooltipRow("kind-" + (p.dataIndex % KIND_COLORS.length), L.this_period, money(g.amount)) +
            tooltipRow("previous", L.previous, money(g.previous_amount)) +
            yoyLine(g.amount_yoy_pct) +
            "<div>" + escapeHtml(L.shopper_trips) + ": " + escapeHtml(count(g.shopper_trips)) +
            "</div>";
        },
      },
      series: [{
        name: L.amount,
        type: "pie",
        radius: [Math.round(radius * 0.6), radius],
        center: narrow ? ["50%", Math.round(base / 2)] : ["30%", "50%"],
        avoidLabelOverlap: true,
        label: { show: false, position: "center" },
        labelLine: { show: false },
        emphasis: {
          label: {
            show: true,
            fontSize: 16,
            fontWeight: "bold",
            formatter: function (p) { return share[groups[p.dataIndex].key]; },
          },
        },
        data: groups.map(function (g) {
          return { name: nameOf("traveller_kind", g.key), value: parseFloat(g.amount) };
        }),
      }],
    });
    empty("traveller_kind", groups.length === 0);
  }

  function empty(group, isEmpty) {
    var el = document.getElementById("chart-" + group);
    el.classList.toggle("empty", isEmpty);
    el.dataset.empty = L.no_data;
  }

  function section(group) {
    return document.getElementById("chart-" + group).closest("section");
  }

  function run() {
    if (typeof echarts === "undefined") {
      failed(null, { message: "echarts" });
      return;
    }
    // The cards compare whole days only (config.headline, none while the period has none):
    // today so far against a whole day a year earlier would always fall.
    if (config.headline) {
      load(null, config.headline).then(function (answer) {
        cards(answer.totals);
        compared(answer);
      }).catch(function (error) { failed(null, error); });
    }
    load("day").then(function (answer) {
      status(answer);
      drawDay(answer);
      var t = answer.totals;
      empty("day", fen(t.amount) === 0n && fen(t.previous_amount) === 0n);
    }).catch(function (error) {
      failed(section("day"), error);
      document.getElementById("as-of").textContent = "";
    });
    load("store").then(function (a) { drawBars("store", a, 30); })
      .catch(function (e) { failed(section("store"), e); });
    load("category").then(function (a) { drawBars("category", a, 20); })
      .catch(function (e) { failed(section("category"), e); });
    load("traveller_kind").then(drawKinds)
      .catch(function (e) { failed(section("traveller_kind"), e); });

    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        fitFigures();
        var el = document.getElementById("chart-traveller_kind");
        if (kinds && (el.clientWidth < NARROW_PX) !== kinds.narrow) {
          var old = echarts.getInstanceByDom(el);
          charts = charts.filter(function (c) { return c !== old; });
          old.dispose();
          el.style.height = "";
          delete el.dataset.rendered;
          drawKinds(kinds.answer);
        }
        charts.forEach(function (c) { c.resize(); });
      }, 100);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
