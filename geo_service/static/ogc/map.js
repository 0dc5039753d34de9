// The small map of the OGC HTML views: the page's GeoJSON (its own URL with f=json) over a basemap.
// Served from /static so that the pages need no inline script (their CSP allows scripts from this origin only).
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var map = L.map(el);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: "&copy; OpenStreetMap" }).addTo(map);
  }
  map.setView([23.13, 113.33], 9);
  fetch(el.getAttribute("data-geojson"), { headers: { Accept: "application/geo+json" } })
    .then(function (resp) { return resp.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, { radius: 5 }); },
        onEachFeature: function (feature, lyr) {
          var name = feature.properties && (feature.properties.name || feature.properties.code);
          var label = document.createElement("span");  // a text node: stored names are never parsed as HTML
          label.textContent = String(name !== undefined && name !== null ? name : feature.id);
          lyr.bindTooltip(label);
        }
      }).addTo(map);
      var bounds = layer.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { maxZoom: 16 }); }
      el.setAttribute("data-loaded", String(layer.getLayers().length));
    })
    .catch(function () { el.setAttribute("data-loaded", "error"); });
}());
