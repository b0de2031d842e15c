// The console works without this script; with it, the queue updates
// itself: the server's event stream says when the rows changed, and the
// rows are fetched and swapped in (a screen reader hears one short note).
(function () {
  "use strict";
  var note = document.getElementById("live-note");
  var rows = document.getElementById("queue-rows");
  if (note && rows && window.EventSource) {
    var status = document.getElementById("live-status");
    var source = new EventSource(note.getAttribute("data-live"));
    source.addEventListener("changed", function () {
      fetch(note.getAttribute("data-rows"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          rows.innerHTML = html;
          if (status) { status.textContent = status.getAttribute("data-text"); }
        })
        .catch(function () { /* the next change tries again */ });
    });
  }
  // Choosing a suggested reply puts its text in the answer box to edit.
  document.querySelectorAll("input[name=suggestion_used]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      var text = document.getElementById("suggestion-text-" + radio.value);
      var answer = document.getElementById("answer");
      if (answer) { answer.value = text ? text.value : ""; }
    });
  });
})();
