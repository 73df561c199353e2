// Staff area: the pages work without JavaScript; this only asks for
// confirmation before irreversible actions and refreshes the preview when a
// choice changes.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var f = e.target;
    var msg = f && f.getAttribute && f.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
    }
  }, true);
  var choice = document.getElementById("preview-choice");
  if (choice) {
    choice.addEventListener("change", function () { choice.submit(); });
  }
})();
