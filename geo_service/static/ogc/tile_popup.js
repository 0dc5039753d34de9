// Popups for the vector-tile layers of the served map pages (protomaps-leaflet draws them on canvas, so a click
// is looked up in the tile data). Every value is put in the page as text, never parsed as HTML.
(function () {
  "use strict";
  function row(table, label, value) {
    var tr = document.createElement("tr");
    var th = document.createElement("th");
    var td = document.createElement("td");
    th.textContent = label;
    td.textContent = value === undefined || value === null ? "–" : String(value);
    tr.appendChild(th);
    tr.appendChild(td);
    table.appendChild(tr);
  }
  // Shows the facility (or the grid cell's count) under a click on a tiled layer; returns the picked props.
  // Called on the map's "preclick", which Leaflet fires even when a vector layer then takes the click.
  window.gsTilePopup = function (map, layer, dataLayer, event) {
    var picked = layer.queryTileFeaturesDebug(event.latlng.lng, event.latlng.lat, 12);
    var found = null;
    picked.forEach(function (features) {
      features.forEach(function (p) {
        if (!found && p.layerName === dataLayer) { found = p.feature.props; }
      });
    });
    if (!found) { return null; }
    var table = document.createElement("table");
    if (found.count !== undefined) {
      row(table, "设施 Facilities", found.count);
      row(table, "", "放大查看 zoom in for each one");
    } else {
      row(table, "名称 Name", found.name);
      row(table, "地址 Address", found.address);
      row(table, "状态 Status", found.status);
    }
    // After the click is done: a division under the facility opens its own popup on the same click (and stops
    // the event), which this one then replaces.
    window.setTimeout(function () {
      L.popup({ className: "gs-popup" }).setLatLng(event.latlng).setContent(table).openOn(map);
      map.getContainer().setAttribute("data-picked", JSON.stringify(found));
    }, 0);
    return found;
  };
}());
