// Applies the saved colour theme before the first paint (an external script: the site's
// Content-Security-Policy allows no inline script). "system" follows prefers-color-scheme.
(function () {
  try {
    var t = localStorage.getItem("wasp.theme");
    var dark = t === "dark" || (t !== "light" && window.matchMedia("(prefers-color-scheme: dark)").matches);
    document.documentElement.classList.toggle("dark", dark);
  } catch {
    // no storage: follow the system
  }
})();
