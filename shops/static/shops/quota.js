// The shopper's look-up /quota/: a static file (the CSP allows no inline script). The page works
// without it; with it, "Show another sum" swaps the CAPTCHA in place (nothing typed is lost),
// and the country box follows the document type where CSS :has() is missing.
(function () {
  "use strict";
  var form = document.querySelector("form.lookup");
  if (!form) { return; }

  var docType = form.querySelector("select[name=doc_type]");
  var country = form.querySelector(".field-country");
  function followDocType() {
    if (docType && country) { country.hidden = docType.value === "resident_id"; }
  }
  if (docType) { docType.addEventListener("change", followDocType); followDocType(); }

  var link = form.querySelector(".captcha-refresh");
  if (!link) { return; }
  var image = form.querySelector("img.captcha");
  var key = form.querySelector("input[name=captcha_0]");
  var answer = form.querySelector("input[name=captcha_1]");
  var status = form.querySelector(".captcha-status");
  link.addEventListener("click", function (event) {
    event.preventDefault();
    fetch(link.dataset.refreshUrl, {
      headers: { "X-Requested-With": "XMLHttpRequest", "Accept": "application/json" },
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (fresh) {
      key.value = fresh.key;
      image.src = fresh.image_url;
      answer.value = "";
      answer.focus();
      if (status) { status.textContent = link.dataset.refreshed; }
    }).catch(function () {
      window.location.href = link.href;  // the plain link: a new page with a new sum
    });
  });
})();
