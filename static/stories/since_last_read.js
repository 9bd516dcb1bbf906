// Replaces the no-JavaScript frame with the "What changed since you last
// read" box itself, fetched from the same private address, or with nothing
// when nothing changed. The request also moves the reader's cookie on.
(function () {
  "use strict";
  var slot = document.querySelector(".since-last-read-slot[data-src]");
  if (!slot || !window.fetch || !window.DOMParser) {
    return;
  }
  fetch(slot.getAttribute("data-src"), { credentials: "same-origin" })
    .then(function (response) {
      return response.ok ? response.text() : "";
    })
    .then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var box = doc.getElementById("since-last-read");
      if (box) {
        box.querySelectorAll("a[target]").forEach(function (link) {
          link.removeAttribute("target");
        });
        slot.replaceWith(document.importNode(box, true));
      } else {
        slot.remove();
      }
    })
    .catch(function () {
      slot.remove();
    });
})();
