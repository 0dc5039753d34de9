// The planner's page: coverage by type, level, area (a division's name or code) and radius as controls; the
// divisions coloured by covered share with their names, a bar chart by division, the downloads, printing the map,
// a what-if (facilities added by tapping, removed by tapping theirs: POST /v1/coverage/scenario) and siting
// (GET /v1/coverage/siting).
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const $ = id => document.getElementById(id);
  const message = $('plan-message');
  const handle = WB.makeMap($('plan-map'), {fitOutlines: false});
  const map = handle.map;
  const canvas = L.canvas({padding: 0.3});
  const divisionsLayer = L.featureGroup().addTo(map);
  const facilitiesLayer = L.featureGroup().addTo(map);
  const scenarioLayer = L.featureGroup().addTo(map);
  const sitesLayer = L.featureGroup().addTo(map);
  const shapes = {}; // level → Promise of {code: feature}
  const COLLECTION = {district: 'districts', township: 'townships', village: 'villages'};
  let current = null; // the parameters the page shows
  let types = [];
  let added = [];
  let removed = new Set();
  let addMode = false;

  function colour(ratio) {
    if (!ratio) return '#d73027';
    if (ratio < 0.5) return '#fc8d59';
    if (ratio < 0.9) return '#fee08b';
    return '#1a9850';
  }

  /** The code of a district typed by its name (the API takes names too, but a code keeps links short). */
  function withinValue() {
    const typed = $('plan-within').value.trim();
    for (const opt of $('plan-districts').options) if (opt.value === typed) return opt.dataset.code;
    return typed;
  }

  function params() {
    const p = {type: $('plan-type').value, level: $('plan-level').value};
    const within = withinValue();
    const radius = $('plan-radius').value.trim();
    if (within) p.within = within;
    if (radius) p.radius_m = radius;
    return p;
  }

  function query(p, extra) {
    return new URLSearchParams(Object.assign({}, p, extra || {})).toString();
  }

  function shapesOf(level) {
    if (!shapes[level]) {
      shapes[level] = WB.api('GET', '/collections/' + COLLECTION[level] + '/items?limit=10000').then(res => {
        const byCode = {};
        if (res.ok) for (const f of res.data.features || []) byCode[f.properties.code || f.id] = f;
        return byCode;
      });
    }
    return shapes[level];
  }

  function summary(data) {
    const s = data.summary;
    const box = WB.clear(document.querySelector('[data-testid="plan-summary"]'));
    const card = (key, value, testid) => box.append(WB.el('div', {'data-testid': testid}, WB.el('strong', {text: value}), WB.el('span', {text: WB.t(key)})));
    card('plan.covered_divisions', WB.number(s.covered_divisions) + ' / ' + WB.number(s.divisions), 'plan-covered-divisions');
    card('plan.covered_population', WB.number(s.covered_population) + ' (' + WB.percent(s.covered_population_ratio) + ')', 'plan-covered-population');
    card('plan.covered_area', WB.number(s.covered_area_km2, 1) + ' km² (' + WB.percent(s.covered_area_ratio) + ')', 'plan-covered-area');
    card('plan.radius_used', data.mode === 'presence' ? WB.t('plan.mode_presence') : WB.number(data.radius_m) + ' m', 'plan-radius-used');
  }

  function chart(rows) {
    const list = WB.clear($('plan-chart'));
    const sorted = rows.slice().sort((a, b) => a.covered_area_ratio - b.covered_area_ratio || b.population - a.population);
    for (const r of sorted.slice(0, 40)) {
      const bar = WB.el('span');
      bar.style.width = Math.round(r.covered_area_ratio * 100) + '%';
      bar.style.background = colour(r.covered_area_ratio);
      list.append(WB.el('li', {'data-testid': 'plan-bar', 'data-code': r.code, 'data-ratio': String(r.covered_area_ratio)},
        WB.el('span', {text: r.name}), WB.el('span', {class: 'wb-bar', role: 'img', 'aria-label': r.name + ' ' + WB.percent(r.covered_area_ratio)}, bar),
        WB.el('span', {text: WB.percent(r.covered_area_ratio)})));
    }
    if (sorted.length > 40) list.append(WB.el('li', {class: 'wb-empty', text: WB.t('plan.more_rows', {count: sorted.length - 40})}));
  }

  function downloads(p) {
    $('plan-dl-csv').href = '/v1/coverage?' + query(p, {format: 'csv'});
    $('plan-dl-xlsx').href = '/v1/coverage?' + query(p, {format: 'xlsx'});
    $('plan-dl-gaps').href = '/v1/coverage/gaps?' + query(p, {format: 'geojson'});
    $('plan-dl-gaps-gpkg').href = '/v1/coverage/gaps?' + query(p, {format: 'gpkg'});
    const u = Object.assign({}, p);
    delete u.level;
    $('plan-dl-uncovered').href = '/v1/coverage/uncovered?' + query(u, {format: 'geojson'});
  }

  async function drawDivisions(rows, level) {
    const byCode = await shapesOf(level);
    divisionsLayer.clearLayers();
    const labels = rows.length <= 60;
    for (const r of rows) {
      const f = byCode[r.code];
      if (!f) continue;
      handle.geojson(f, {
        renderer: canvas,
        style: {color: '#333', weight: 0.7, fillColor: colour(r.covered_area_ratio), fillOpacity: 0.55},
        onEachFeature: (feat, layer) => {
          const text = r.name + ' · ' + WB.percent(r.covered_area_ratio) + ' · ' + WB.number(r.covered_population) + ' / ' + WB.number(r.population);
          if (labels) layer.bindTooltip(r.name, {permanent: true, direction: 'center', className: 'wb-label'});
          else layer.bindTooltip(text);
          layer.bindPopup(() => WB.el('div', {text}));
          layer.on('click', (e) => { if (addMode) { map.closePopup(); addPoint(e.latlng); } });
        },
      }).eachLayer(l => divisionsLayer.addLayer(l));
    }
    const bounds = divisionsLayer.getBounds();
    handle.fit(bounds, {padding: [10, 10]});
  }

  async function drawFacilities(type) {
    facilitiesLayer.clearLayers();
    const area = divisionsLayer.getBounds();
    const near = area.isValid() ? area.pad(0.1) : null; // those serving the area shown, not the whole city
    const info = types.find(t => t.code === type);
    if (!info) return;
    const res = await WB.api('GET', '/collections/' + info.collection + '/items?limit=10000&status=active');
    if (!res.ok) return;
    for (const f of res.data.features || []) {
      const [lon, lat] = f.geometry.coordinates;
      if (near && !near.contains(handle.toLatLng(lon, lat))) continue;
      const marker = L.circleMarker(handle.toLatLng(lon, lat), {renderer: canvas, radius: 2.5, color: '#12324f', weight: 0.5, fillColor: '#12324f', fillOpacity: 0.8});
      marker.bindTooltip(String(f.properties.name || ''));
      marker.on('click', () => {
        if (!addMode) return;
        if (removed.has(f.id)) { removed.delete(f.id); marker.setStyle({color: '#12324f'}); } else { removed.add(f.id); marker.setStyle({color: '#aaa'}); }
        showChanges();
      });
      facilitiesLayer.addLayer(marker);
    }
  }

  let applied = 0;
  async function apply() {
    const seq = ++applied;
    const p = params();
    WB.say(message, 'busy', WB.t('app.working'));
    const res = await WB.api('GET', '/v1/coverage?' + query(p));
    if (seq !== applied) return; // the controls changed meanwhile: the later answer is the one to show
    if (!res.ok) { WB.say(message, 'error', WB.errorText(res), res.status); return; }
    current = p;
    const q = new URLSearchParams(p);
    history.replaceState(null, '', location.pathname + '?' + q.toString());
    WB.say(message, 'ok', WB.t('plan.shown', {count: res.data.divisions.length}), res.status);
    message.dataset.rows = String(res.data.divisions.length);
    summary(res.data);
    chart(res.data.divisions);
    downloads(p);
    const typeName = $('plan-type').selectedOptions[0].textContent;
    const levelName = $('plan-level').selectedOptions[0].textContent;
    $('plan-caption').textContent = [typeName, levelName, $('plan-within').value.trim(),
      res.data.mode === 'presence' ? WB.t('plan.mode_presence') : WB.number(res.data.radius_m) + ' m', WB.today()].filter(Boolean).join(' · ');
    await drawDivisions(res.data.divisions, res.data.level);
    await drawFacilities(p.type);
    clearScenario();
  }

  // What-if
  function showChanges() {
    document.querySelector('[data-testid="plan-scenario-changes"]').textContent = WB.t('plan.changes', {added: added.length, removed: removed.size});
  }

  function addPoint(latlng) {
    const point = {type: 'Point', coordinates: handle.toLonLat(latlng)};
    added.push(point);
    L.circleMarker(latlng, {radius: 8, color: '#7b3294', weight: 3, fillOpacity: 0.3}).addTo(scenarioLayer);
    showChanges();
  }

  function clearScenario() {
    added = [];
    removed = new Set();
    scenarioLayer.clearLayers();
    facilitiesLayer.eachLayer(l => l.setStyle && l.setStyle({color: '#12324f'}));
    WB.clear($('plan-scenario-delta'));
    showChanges();
  }

  map.on('click', (e) => { if (addMode) addPoint(e.latlng); });
  $('plan-add-mode').addEventListener('click', () => {
    addMode = !addMode;
    $('plan-add-mode').setAttribute('aria-pressed', String(addMode));
  });
  $('plan-scenario-clear').addEventListener('click', clearScenario);
  $('plan-add-centre').addEventListener('click', () => addPoint(map.getCenter())); // without a pointer
  $('plan-scenario-run').addEventListener('click', async () => {
    if (!current) return;
    const json = {type: current.type, level: current.level, add: added, remove: [...removed]};
    if (current.within) json.within = current.within;
    if (current.radius_m) json.radius_m = Number(current.radius_m);
    const box = WB.clear($('plan-scenario-delta'));
    box.dataset.request = JSON.stringify(json); // what was asked, beside the answer
    const res = await WB.api('POST', '/v1/coverage/scenario', {json});
    if (!res.ok) { box.append(WB.el('p', {class: 'wb-problems', text: WB.errorText(res)})); return; }
    const d = res.data.delta || {};
    box.dataset.population = String(d.covered_population);
    box.append(WB.el('ul', {},
      WB.el('li', {text: WB.t('plan.delta_population', {value: (d.covered_population >= 0 ? '+' : '') + WB.number(d.covered_population)})}),
      WB.el('li', {text: WB.t('plan.delta_area', {value: (d.covered_area_km2 >= 0 ? '+' : '') + WB.number(d.covered_area_km2, 2)})}),
      WB.el('li', {text: WB.t('plan.delta_divisions', {value: (d.covered_divisions >= 0 ? '+' : '') + WB.number(d.covered_divisions)})})));
  });

  // Siting
  $('plan-siting-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!current) return;
    const q = {type: current.type, n: $('plan-siting-n').value || '3', candidates: $('plan-siting-candidates').value};
    if (current.within) q.within = current.within;
    if (current.radius_m) q.radius_m = current.radius_m;
    const list = WB.clear($('plan-sites'));
    const info = document.querySelector('[data-testid="plan-siting-summary"]');
    list.dataset.state = 'loading';
    info.textContent = WB.t('app.working');
    const res = await WB.api('GET', '/v1/coverage/siting?' + query(q));
    sitesLayer.clearLayers();
    if (!res.ok) {
      list.dataset.state = 'error';
      info.textContent = WB.errorText(res);
      return;
    }
    const s = res.data.summary || {};
    info.textContent = WB.t('plan.siting_summary', {before: WB.number(s.covered_population_before), after: WB.number(s.covered_population_after), method: s.method || ''});
    for (const f of res.data.features || []) {
      const p = f.properties || {};
      const [lon, lat] = f.geometry.coordinates;
      list.append(WB.el('li', {'data-testid': 'plan-site', 'data-rank': String(p.rank), 'data-gain': String(p.gain_population)},
        WB.t('plan.site', {gain: WB.number(p.gain_population), lon: lon.toFixed(5), lat: lat.toFixed(5)}) + (p.division_code ? ' · ' + p.division_code : '')));
      L.marker(handle.toLatLng(lon, lat), {title: '#' + p.rank}).bindTooltip('#' + p.rank, {permanent: true, direction: 'top'}).addTo(sitesLayer);
    }
    list.dataset.state = 'ready';
    const bounds = sitesLayer.getBounds();
    if (bounds.isValid() && !map.getBounds().contains(bounds)) handle.fit(bounds.extend(map.getBounds()));
  });

  $('plan-print').addEventListener('click', () => window.print());
  // The printed map is another size: show the same divisions on it.
  window.addEventListener('beforeprint', () => handle.fit(divisionsLayer.getBounds(), {animate: false}));
  window.addEventListener('afterprint', () => handle.fit(divisionsLayer.getBounds(), {animate: false}));
  $('plan-form').addEventListener('submit', (e) => { e.preventDefault(); apply(); });

  // Start from the parameters in the address (a shared link), else the first type.
  const start = new URLSearchParams(location.search);
  for (const [key, id] of [['type', 'plan-type'], ['level', 'plan-level'], ['within', 'plan-within'], ['radius_m', 'plan-radius']]) {
    if (start.get(key)) $(id).value = start.get(key);
  }
  WB.api('GET', '/v1/facilities/types').then(res => {
    types = res.ok ? res.data : [];
    apply();
  });
});
