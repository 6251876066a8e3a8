// The public API as the till calls it: JSON, the page's language, the till's session cookie
// and the page's CSRF token on writes. Nothing here knows a rule of the policy.

const page = document.body.dataset;
export const LANGUAGE = page.language || "zh-hans";

// The request may or may not have reached the server: its outcome is unknown.
export class NetworkError extends Error {}

// The session ended (shift over, signed out elsewhere, terminal revoked): back to the sign-in.
// What the tab holds (the basket, a sale whose outcome is unknown) stays in sessionStorage and
// resumes after the sign-in.
function sessionEnded() {
  window.location.assign(page.signIn);
}

export async function call(method, path, { json, key, signal } = {}) {
  const headers = { Accept: "application/json", "Accept-Language": LANGUAGE };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = typeof json === "string" ? json : JSON.stringify(json);
  }
  if (method !== "GET") headers["X-CSRFToken"] = page.csrf;
  if (key) headers["Idempotency-Key"] = key;
  let response;
  let data = null;
  try {
    response = await fetch(`/api/v1/${path}`, {
      method, headers, body, signal, credentials: "same-origin", cache: "no-store",
    });
    if ((response.headers.get("Content-Type") || "").includes("json")) data = await response.json();
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new NetworkError(String(error));
  }
  if (response.status === 401) sessionEnded();
  return {
    status: response.status,
    data,
    replayed: response.headers.get("Idempotent-Replayed") === "true",
    retryAfter: Number(response.headers.get("Retry-After")) || 0,
  };
}

// A message for a problem+json answer: its detail, else its title.
export function problemText(answer) {
  const data = answer.data || {};
  return data.detail || data.title || `HTTP ${answer.status}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A write sent until its outcome is known, with the same key and the same bytes each time: a
// network error, a 5xx, a 429 or a 409 request_in_progress (the first attempt still running)
// leaves the outcome unknown, and it is asked again; any other answer is the outcome. ``pending`` is
// {path, body, key}, kept by the caller in sessionStorage so that a reload asks again too.
// ``onWait(attempt, seconds)`` tells the screen while the outcome is unknown.
export async function sendOnce(pending, onWait) {
  let delay = 1;
  for (let attempt = 1; ; attempt += 1) {
    let answer = null;
    try {
      answer = await call("POST", pending.path, { json: pending.body, key: pending.key });
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
    }
    if (answer && answer.status === 401) return null;
    // A 409 is the outcome (the sale voided, picked up, too early…) unless the first attempt
    // with this key is still running.
    const running = answer && answer.status === 409 && answer.data && answer.data.code === "request_in_progress";
    const unknown = !answer || answer.status >= 500 || answer.status === 429 || running;
    if (!unknown) return answer;
    const wait = Math.max(delay, (answer && answer.retryAfter) || 0);
    onWait(attempt, wait, answer);
    await sleep(wait * 1000);
    delay = Math.min(delay * 2, 8);
  }
}
