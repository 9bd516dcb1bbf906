/* Story change page: autosave of the unsaved form, restoring it, and
   showing who else has the story open. Progressive: the page works without. */
(function () {
  "use strict";
  var script = document.getElementById("story-editing-script");
  var form = document.getElementById("story_form");
  if (!script || !form) { return; }
  var autosaveUrl = script.dataset.autosaveUrl;
  var AUTOSAVE_EVERY_MS = 4000;
  var PRESENCE_EVERY_MS = 30000;
  var submitting = false;

  function csrfToken() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function serialise() {
    var data = new FormData(form);
    // File inputs cannot be kept; everything typed can.
    var plain = new URLSearchParams();
    data.forEach(function (value, key) {
      if (typeof value === "string") { plain.append(key, value); }
    });
    return plain.toString();
  }

  var lastSaved = serialise();
  var status = document.createElement("p");
  status.className = "story-autosave-status";
  status.setAttribute("aria-live", "polite");
  form.insertBefore(status, form.firstChild);

  function autosave() {
    if (submitting) { return; }
    var body = serialise();
    if (body === lastSaved) { return; }
    fetch(autosaveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded"},
      body: body
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (result) {
      lastSaved = body;
      var time = new Date(result.saved_at).toLocaleTimeString();
      status.textContent = "Unsaved changes kept at " + time + "." +
        (result.stale ? " Someone else has saved this story since you opened it." : "");
    }).catch(function () {
      status.textContent = "Could not keep your unsaved changes on the server (signed out or offline): keep this tab open, sign in again in another tab, then save.";
    });
  }

  function setField(name, value) {
    var fields = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    fields.forEach(function (field) {
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = value.indexOf(field.value) !== -1;
      } else if (field.tagName === "SELECT" && field.multiple) {
        Array.prototype.forEach.call(field.options, function (option) {
          option.selected = value.indexOf(option.value) !== -1;
        });
      } else if (field.type !== "file" && field.type !== "hidden") {
        field.value = value[0] || "";
        var editor = window.editors && window.editors[field.id];
        if (editor) { editor.setData(field.value); }
      }
    });
  }

  function addInlineRows(data) {
    // Make as many inline rows as the saved form had before filling them.
    Object.keys(data).forEach(function (key) {
      var match = key.match(/^(.*)-TOTAL_FORMS$/);
      if (!match) { return; }
      var prefix = match[1];
      var total = form.querySelector('[name="' + CSS.escape(key) + '"]');
      var add = document.querySelector("#" + CSS.escape(prefix) + "-group .add-row a");
      var wanted = parseInt(data[key][0], 10);
      while (total && add && parseInt(total.value, 10) < wanted) { add.click(); }
    });
  }

  function restore() {
    var source = document.getElementById("story-autosave-json");
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    addInlineRows(data);
    // Editors for new rows start asynchronously; fill once they exist.
    setTimeout(function () {
      Object.keys(data).forEach(function (name) {
        if (!/-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$/.test(name)) { setField(name, data[name]); }
      });
      // Save against the version the kept text was typed on, so edits
      // saved since then are reported as a conflict, not overwritten.
      var version = form.querySelector('[name="loaded_version"]');
      if (version && data.loaded_version) { version.value = data.loaded_version[0]; }
      status.textContent = "Your unsaved changes are back in the form. Save to keep them.";
      var offer = document.getElementById("story-autosave-offer");
      if (offer) { offer.hidden = true; }
    }, 500);
  }

  function presence() {
    var holder = document.getElementById("story-presence");
    if (!holder) { return; }
    fetch(holder.dataset.url, {method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrfToken()}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) {
        if (result) { holder.textContent = result.others.length ? "Also open by: " + result.others.join(", ") + "." : ""; }
      }).catch(function () { /* presence is best effort */ });
  }

  var restoreButton = document.getElementById("story-autosave-restore");
  if (restoreButton) { restoreButton.addEventListener("click", restore); }
  form.addEventListener("submit", function () { submitting = true; });
  setInterval(autosave, AUTOSAVE_EVERY_MS);
  setInterval(presence, PRESENCE_EVERY_MS);
})();
