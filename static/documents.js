// Upload forms: a warning for files over the limit before they are sent, a progress bar while
// they travel, and a cleared file input once the server has answered. A form marked
// data-autosubmit sends itself once files are chosen; one marked data-drop-target also takes
// files dropped anywhere on the page.
(function () {
  "use strict";

  function parts(form) {
    var box = form.querySelector("[data-upload-progress]");
    return box && { box: box, bar: box.querySelector("progress"), status: box.querySelector("[data-upload-status]") };
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    var form = input.closest && input.closest("form[data-upload]");
    if (!form || input.type !== "file") return;
    var limit = Number(form.dataset.maxFileBytes);
    var tooLarge = Array.prototype.filter.call(input.files, function (file) { return file.size > limit; });
    input.setCustomValidity(tooLarge.length
      ? tooLarge.map(function (file) { return file.name; }).join(", ") + ": larger than " + Math.round(limit / 1048576) + " MB per file."
      : "");
    if (!input.reportValidity()) {
      if (form.hasAttribute("data-autosubmit")) window.baToast(input.validationMessage);
      return;
    }
    if (form.hasAttribute("data-autosubmit") && input.files.length) form.requestSubmit();
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("form[data-upload]");
    var ui = form && parts(form);
    if (!ui || !event.detail.lengthComputable) return;
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    ui.box.hidden = false;
    ui.bar.value = percent;
    ui.status.textContent = percent < 100 ? "Uploading… " + percent + "%" : "Saving the files…";
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest && event.target.closest("form[data-upload]");
    var ui = form && parts(form);
    if (!ui) return;
    ui.box.hidden = true;
    ui.bar.value = 0;
    if (event.detail.successful) form.reset();
  });

  // Dropping files ----------------------------------------------------------------------

  function carriesFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1;
  }

  // Shown while files are dragged over the page: browsers repeat dragover every few dozen
  // milliseconds, so the overlay goes once they stop (a drop, a cancel, or leaving the window).
  var hideLater;
  function overlay(show) {
    var box = document.querySelector("[data-drop-overlay]");
    if (box) box.hidden = !show;
    clearTimeout(hideLater);
    if (show) hideLater = setTimeout(function () { overlay(false); }, 400);
  }

  // Without a target the browser would open a dropped file in place of the page.
  document.addEventListener("dragover", function (event) {
    if (!carriesFiles(event) || !document.querySelector("[data-drop-target], [data-drop-refusal]")) return;
    event.preventDefault();
    overlay(true);
  });

  document.addEventListener("drop", function (event) {
    var form = document.querySelector("form[data-drop-target]");
    var refusal = document.querySelector("[data-drop-refusal]");
    if (!carriesFiles(event) || (!form && !refusal)) return;
    event.preventDefault();
    overlay(false);
    if (!form) return window.baToast(refusal.getAttribute("data-drop-refusal"));
    var input = form.querySelector("input[type=file]");
    input.files = event.dataTransfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
