// The workbench's map: a Leaflet map over the configured basemap, with the service's own district outlines
// (so it shows something with no internet). Data are WGS84; on AMap tiles (GCJ-02) they are drawn converted,
// and what a person taps or draws is converted back before it is sent.
'use strict';

(function () {
  const basemap = WB.config.basemap || {kind: 'none'};
  const gcj = basemap.kind === 'amap';
  const START = {lon: 113.33, lat: 23.13, z: 10};

  /** Map position of a WGS84 [lon, lat]. */
  function toLatLng(lon, lat) {
    const [x, y] = gcj ? GCJ02.toGcj02(lon, lat) : [lon, lat];
    return L.latLng(y, x);
  }

  /** WGS84 [lon, lat] of a map position, rounded to 7 decimals (about a centimetre). */
  function toLonLat(latlng) {
    const [x, y] = gcj ? GCJ02.toWgs84(latlng.lng, latlng.lat) : [latlng.lng, latlng.lat];
    return [Number(x.toFixed(7)), Number(y.toFixed(7))];
  }

  function geojson(data, options) {
    return L.geoJSON(data, Object.assign({coordsToLatLng: c => toLatLng(c[0], c[1])}, options || {}));
  }

  /** A GeoJSON geometry of a drawn layer, in WGS84. */
  function geometryOf(layer) {
    if (layer instanceof L.Marker || layer instanceof L.CircleMarker) {
      return {type: 'Point', coordinates: toLonLat(layer.getLatLng())};
    }
    const latlngs = layer.getLatLngs();
    return {type: 'LineString', coordinates: latlngs.map(toLonLat)};
  }

  function startView() {
    const q = new URLSearchParams(location.search);
    const lon = parseFloat(q.get('lon')), lat = parseFloat(q.get('lat')), z = parseInt(q.get('z'), 10);
    if (Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lon) <= 180 && Math.abs(lat) <= 90) {
      return {lon, lat, z: Number.isFinite(z) ? Math.min(Math.max(z, 3), 19) : 15, given: true};
    }
    return Object.assign({given: false}, START);
  }

  /** A map in `container`; options: outlines (draw the districts, default true), labels (their names). */
  function makeMap(container, options) {
    const opts = Object.assign({outlines: true, labels: false}, options || {});
    const view = startView();
    const map = L.map(container, {preferCanvas: false, zoomControl: true, keyboard: true})
      .setView(toLatLng(view.lon, view.lat), view.z);
    if (basemap.kind !== 'none' && basemap.url) {
      L.tileLayer(basemap.url, {
        subdomains: basemap.subdomains || 'abc', maxZoom: 19,
        attribution: basemap.kind === 'amap' ? '© AMap' : (basemap.kind === 'osm' ? '© OpenStreetMap' : ''),
      }).addTo(map);
    }
    L.control.scale({imperial: false}).addTo(map);
    /** Fit the map to bounds, after taking in any change of its box (the page may have grown around it). */
    let fitted = false; // once the page has shown something, the outlines arriving late must not move the map
    function fit(bounds, fitOptions) {
      if (!bounds || !bounds.isValid()) return;
      fitted = true;
      map.invalidateSize();
      map.fitBounds(bounds, Object.assign({padding: [10, 10], animate: false}, fitOptions || {}));
    }
    const handle = {map, toLatLng, toLonLat, geojson, geometryOf, fit, outlines: null, view};
    if (opts.outlines) {
      handle.ready = WB.api('GET', '/collections/districts/items?limit=100', {noRedirect: true}).then(res => {
        if (!res.ok) return;
        const layer = geojson(res.data, {
          style: {color: '#4a5a6a', weight: 1.2, fill: false, interactive: false},
          onEachFeature: (feature, l) => {
            if (opts.labels) l.bindTooltip(String(feature.properties.name || ''), {permanent: true, direction: 'center', className: 'wb-label'});
          },
        }).addTo(map);
        layer.bringToBack();
        handle.outlines = layer;
        if (view.given || fitted || opts.fitOutlines === false) return;
        // A person limited to a district starts on it; everyone else on the whole area.
        const own = layer.getLayers().find(l => l.feature.properties.code === WB.config.district);
        fit(own ? own.getBounds() : layer.getBounds(), {padding: [4, 4]});
        fitted = false; // the start view only
      });
    } else {
      handle.ready = Promise.resolve();
    }
    container.dataset.ready = '1';
    WB.maps.push(handle);
    return handle;
  }

  WB.makeMap = makeMap;
  WB.maps = []; // the maps of this page (for the console and the tests)
  WB.gcj = gcj;
})();
