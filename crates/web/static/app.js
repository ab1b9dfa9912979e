// Progressive enhancement only: the pages work without this file.
(function () {
  var token = document.getElementById("token");
  if (!token) return;
  token.focus();
  var digits = token.getAttribute("data-digits") || "6";
  token.setAttribute("placeholder", digits === "7" ? "00 000 00" : digits === "8" ? "0000 0000" : "000 000");
})();
(function () {
  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();
