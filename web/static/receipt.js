// receipt.js adds "Copy" and "Print" buttons beside the follow-up token.
// It is an enhancement only: without it the receipt says how to copy the
// token (select it) and print the page (the browser's menu), and nothing is
// missing. The button labels come from the page, in its language, so this
// file holds no text. No data leaves the page.
(function () {
  "use strict";

  var tools = document.getElementById("receipt-tools");
  var token = document.getElementById("token");
  var status = document.getElementById("receipt-status");
  var help = document.getElementById("receipt-help");
  if (!tools || !token || !status) {
    return;
  }

  function say(text) {
    // Emptied first, so saying the same thing twice is announced twice.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function selectToken() {
    var range = document.createRange();
    range.selectNodeContents(token);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  // copyByCommand is for browsers without the asynchronous clipboard, or
  // pages not served over HTTPS, where navigator.clipboard is missing.
  function copyByCommand() {
    selectToken();
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  function copy() {
    var text = token.textContent.trim();
    var done = function (ok) {
      if (!ok) {
        selectToken();
      }
      say(ok ? tools.dataset.copied : tools.dataset.copyFailed);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { done(true); },
        function () { done(copyByCommand()); }
      );
    } else {
      done(copyByCommand());
    }
  }

  function button(label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = label;
    b.addEventListener("click", onClick);
    tools.appendChild(b);
  }

  button(tools.dataset.copy, copy);
  if (typeof window.print === "function") {
    button(tools.dataset.print, function () { window.print(); });
  }
  tools.hidden = false;
  if (help) {
    help.hidden = true;
  }
})();
