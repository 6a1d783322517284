// The chat page: a composer that never loses what was typed (drafts, refusals said in words,
// the size limit, Enter to send and Esc to stop), and a view that follows the reply.
(function () {
  "use strict";

  function composer() { return document.getElementById("composer"); }
  function messageBox() { var form = composer(); return form && form.querySelector("textarea"); }
  function draftKey(form) { return form.getAttribute("data-draft-key"); }

  // Characters as the server counts them: a character outside the BMP is one, not two.
  function length(text) { return Array.from(text).length; }

  // --- What the composer says -----------------------------------------------------------

  function say(parts) {
    var line = document.createElement("p");
    line.className = "alert alert-error";
    line.append.apply(line, parts);
    document.getElementById("composer-error").replaceChildren(line);
  }

  function link(text, href) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  // Refusals the app does not word itself (it does for 402, 409 and 422).
  var REFUSALS = {
    400: "This page is out of date. Your text is kept: reload the page, then send it again.",
    404: "This chat no longer exists. Your text is still in the box, to copy elsewhere.",
    413: "That is more than the server takes in one message. Shorten it, or add it to the chat as a document.",
    429: "Too many requests just now. Wait a moment, then send again; your text is kept.",
  };

  function refusal(status) {
    if (status === 401) {
      var login = composer().getAttribute("data-login-url");
      return ["Your session ended: ", link("log in again", login), " (your draft is kept)."];
    }
    if (REFUSALS[status]) return [REFUSALS[status]];
    if (status >= 500) return ["The server could not take the message (error " + status + "). Your text is kept: send it again in a moment."];
    return ["The message was not sent (error " + status + "). Your text is kept: try again."];
  }

  function isChatAction(elt) { return elt && elt.closest && elt.closest("[data-chat-action]"); }

  // A refused action keeps the text: the server's reason goes into the composer, or ours when the
  // answer came from elsewhere (a proxy, an expired session, an outage).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status < 400 || !isChatAction(event.detail.requestConfig.elt)) return;
    event.detail.isError = false;
    event.detail.shouldSwap = xhr.getResponseHeader("HX-Retarget") === "#composer-error";
    if (!event.detail.shouldSwap) say(refusal(xhr.status));
  });

  // An ended session answers with a redirect to the log-in page: stay, and say so instead.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    if (event.detail.xhr.status !== 401 || !isChatAction(event.detail.elt)) return;
    event.preventDefault();
    say(refusal(401));
  });

  document.addEventListener("htmx:sendError", function (event) {
    if (isChatAction(event.detail.elt)) say(["Cannot reach the server. Your text is kept: send it again once you are back online."]);
  });

  // Only an accepted message leaves the box; any chat action that went through brings the newest into view.
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt, status = event.detail.xhr.status;
    if (!isChatAction(elt) || status < 200 || status > 299) return;
    document.getElementById("composer-error").replaceChildren();
    if (elt === composer()) clearComposer();
    follow(true);
  });

  function clearComposer() {
    localStorage.removeItem(draftKey(composer()));
    var box = messageBox();
    box.value = "";
    fit(box);
    countCharacters(box);
  }

  // --- Drafts, size and limit -----------------------------------------------------------

  function restoreDraft() {
    var form = composer(), box = messageBox();
    var saved = localStorage.getItem(draftKey(form));
    if (saved && !box.value) box.value = saved;
  }

  // The box grows with its text up to half the window, then scrolls.
  function fit(box) {
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight + 2, Math.round(window.innerHeight / 2)) + "px";
  }

  function limitOf(box) { return Number(box.getAttribute("data-limit")); }

  function countCharacters(box) {
    var count = document.querySelector("[data-char-count]"), used = length(box.value), limit = limitOf(box);
    count.hidden = used < limit * 0.9;
    count.textContent = used.toLocaleString("en") + " / " + limit.toLocaleString("en");
    count.classList.toggle("over", used > limit);
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest("form[data-draft-key]");
    if (!form) return;
    localStorage.setItem(draftKey(form), event.target.value);
    fit(event.target);
    countCharacters(event.target);
  });

  // An over-long paste is refused whole, never cut: the text can go in as a document instead.
  document.addEventListener("paste", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("#composer textarea") || !event.clipboardData) return;
    var pasted = event.clipboardData.getData("text/plain"), limit = limitOf(box);
    var kept = box.value.slice(0, box.selectionStart) + box.value.slice(box.selectionEnd);
    if (length(kept) + length(pasted) <= limit) return;
    event.preventDefault();
    var parts = ["That paste has " + length(pasted).toLocaleString("en") + " characters; a message holds at most "
      + limit.toLocaleString("en") + ", so nothing was pasted."];
    var upload = document.querySelector("form[data-drop-target] input[type=file]");
    if (upload) parts.push(" ", documentButton(pasted, upload));
    say(parts);
  });

  function documentButton(text, input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button small";
    button.textContent = "Add it to the chat as a document";
    button.addEventListener("click", function () {
      var files = new DataTransfer();
      files.items.add(new File([text], "Pasted text.txt", { type: "text/plain" }));
      input.files = files.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      document.getElementById("composer-error").replaceChildren();
    });
    return button;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var box = messageBox();
    if (event.detail.elt !== composer() || length(box.value.trim()) <= limitOf(box)) return;
    event.preventDefault();
    say(["Messages are limited to " + limitOf(box).toLocaleString("en") + " characters; this one has "
      + length(box.value.trim()).toLocaleString("en") + ". Shorten it, or add it to the chat as a document."]);
  });

  // --- Keys -------------------------------------------------------------------------------

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") return stopReply(event);
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    var box = event.target;
    if (!box.matches || !box.matches("#composer textarea")) return;
    event.preventDefault();
    if (box.value.trim()) box.form.requestSubmit();
  });

  function stopReply(event) {
    if (event.defaultPrevented || document.querySelector("dialog[open]")) return;
    var stop = document.querySelector('#messages [aria-busy="true"] [data-stop]');
    if (!stop) return;
    event.preventDefault();
    stop.click();
  }

  // --- Following the reply ----------------------------------------------------------------

  // Whether the view keeps the newest text in sight as it arrives: yes until the user scrolls
  // away from it, and again once they come back (or press "Newest").
  var following = true;

  function newest() {
    var all = document.querySelectorAll("#messages > .message");
    return all[all.length - 1];
  }

  function newestInView() {
    var last = newest(), form = composer();
    return !last || last.getBoundingClientRect().bottom <= form.getBoundingClientRect().top + 2;
  }

  function showJump() {
    var jump = document.querySelector("[data-jump-newest]");
    if (jump) jump.hidden = newestInView();
  }

  // The page keeps the space of the composer free at its bottom (scroll-padding), so the newest
  // message and anything that takes the focus land above it.
  function follow(force) {
    if (force) following = true;
    var last = newest();
    if (following && last) last.scrollIntoView({ block: "end" });
    showJump();
  }

  function measureComposer() {
    var form = composer();
    document.documentElement.style.setProperty("--composer-height", form.offsetHeight + "px");
    follow(false);
  }

  window.addEventListener("scroll", function () {
    following = newestInView();
    showJump();
  }, { passive: true });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.closest && event.target.closest("#conversation")) follow(false);
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-jump-newest]")) follow(true);
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Side panels start folded on narrow screens, where they would push the conversation down.
    if (window.matchMedia("(max-width: 1000px)").matches) {
      document.querySelectorAll("details[data-collapse-narrow]").forEach(function (d) { d.open = false; });
    }
    var box = messageBox();
    if (!box) return;
    restoreDraft();
    fit(box);
    countCharacters(box);
    // A link to one message (#message-…) opens there; any other opening shows the newest.
    following = !location.hash;
    new ResizeObserver(measureComposer).observe(composer());
    measureComposer();
    // Touch screens would open their keyboard over the conversation.
    if (window.matchMedia("(hover: hover) and (pointer: fine)").matches) box.focus({ preventScroll: true });
  });
})();
