// Draw every chart of the page from the specification beside it (SVG: crisp on a phone, and
// each mark an element). A chart that cannot be drawn says so on the console and on the page.
(function () {
  var specs = document.querySelectorAll("script.chart-spec");
  specs.forEach(function (node) {
    var target = document.getElementById(node.getAttribute("data-for"));
    var spec = JSON.parse(node.textContent);
    window.vegaEmbed(target, spec, { renderer: "svg", actions: false })
      .then(function () { target.setAttribute("data-rendered", "true"); })
      .catch(function (error) {
        target.setAttribute("data-rendered", "error");
        target.textContent = "This chart could not be drawn; the table holds its numbers.";
        console.error("chart " + target.id + ": " + error);
      });
  });
})();
