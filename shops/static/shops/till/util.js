// Small things the screens share: the page's texts, money and times as people read them,
// keys, and the resident identity number's check.

export const T = JSON.parse(document.getElementById("till-texts").textContent);
export const page = document.body.dataset;

// What the tab keeps, per terminal: keys are per terminal, so a basket, a sale or an action
// waiting for its outcome is only ever asked again by the terminal that sent it (another
// terminal signed in in this tab starts afresh; the first finds its own again).
export const stored = (what) => `till.${page.terminalId}.${what}`;

// "{count} pieces" with {name}s filled in.
export function fmt(text, values = {}) {
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

// Money arrives as decimal strings ("1234.50") and is shown as such, grouped: never a float.
export function money(text) {
  if (text === null || text === undefined) return "";
  const [whole, fraction = "00"] = text.split(".");
  const grouped = count(whole); // "−1,234" for "-1234"
  const sign = grouped.startsWith("−") ? "−" : "";
  return `${sign}¥${grouped.slice(sign.length)}.${fraction.padEnd(2, "0")}`;
}

// Money as decimal strings ("1234.50") to whole cents and back, in BigInt: never a float.
export function cents(text) {
  const negative = text.startsWith("-");
  const [whole, fraction = "00"] = (negative ? text.slice(1) : text).split(".");
  const value = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, "0").slice(0, 2));
  return negative ? -value : value;
}

export function decimal(value) {
  const digits = (value < 0n ? -value : value).toString().padStart(3, "0");
  return `${value < 0n ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

// Whole counts (pieces, ml) grouped as money is: 1,500; a shortfall with a real minus sign.
export function count(n) {
  const text = String(n);
  const negative = text.startsWith("-");
  const grouped = (negative ? text.slice(1) : text).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "−" : ""}${grouped}`;
}

// Times arrive with the policy's offset (+08:00): shown as that local time.
export function localTime(iso) {
  return iso ? iso.slice(0, 16).replace("T", " ") : "";
}

export function today() {
  const now = new Date(Date.now() + 8 * 3600 * 1000); // Asia/Shanghai has no summer time
  return now.toISOString().slice(0, 10);
}

// A random Idempotency-Key (crypto.getRandomValues: also outside secure contexts).
export function newKey(prefix = "till") {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A resident identity number (GB 11643): 17 digits and a check character. Returns
// {valid, birthDate} for 18 characters, null for anything shorter (still being typed).
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";
export function residentId(number) {
  // Full-width digits, spaces and separators read as the server reads them
  // (quotas.identity.normalise_document_number).
  const text = number.normalize("NFKC").replace(/[\s\-_/.]+/g, "").toUpperCase();
  if (text.length < 18) return null;
  if (!/^\d{17}[\dX]$/.test(text)) return { valid: false, birthDate: null };
  const sum = WEIGHTS.reduce((total, weight, i) => total + weight * Number(text[i]), 0);
  const valid = CHECK[sum % 11] === text[17];
  const y = text.slice(6, 10), m = text.slice(10, 12), d = text.slice(12, 14);
  const date = new Date(`${y}-${m}-${d}T00:00:00Z`);
  const real = !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === `${y}-${m}-${d}`;
  return { valid: valid && real, birthDate: real ? `${y}-${m}-${d}` : null, checkDigit: valid };
}

export function name(product) {
  if (!product) return "";
  return page.language === "en" ? product.name_en || product.name_zh : product.name_zh || product.name_en;
}
