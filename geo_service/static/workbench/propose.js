// Propose a name: a point tapped, a line drawn, the phone's position or typed GeoJSON; a live check as the
// surveyor types (POST /v1/place-names/check); a photo; then POST /v1/place-names (or PUT for a returned one).
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const $ = id => document.getElementById(id);
  const form = $('propose-form');
  const nameInput = $('propose-name');
  const category = $('propose-category');
  const geometryInput = $('propose-geometry');
  const check = $('propose-check');
  const result = $('propose-result');
  const part = name => check.querySelector('[data-testid="' + name + '"]');
  const handle = WB.makeMap($('propose-map'));
  const map = handle.map;
  const drawn = L.featureGroup().addTo(map);
  const conflictsLayer = L.featureGroup().addTo(map);
  let geometry = null;
  let mode = 'point';
  let editing = null; // {id, etag} of a returned proposal being changed

  function setGeometry(geom, fromInput) {
    geometry = geom;
    drawn.clearLayers();
    if (geom) {
      const layer = handle.geojson(geom, {style: {color: '#c0392b', weight: 4}});
      layer.eachLayer(l => drawn.addLayer(l));
      if (!fromInput) geometryInput.value = JSON.stringify(geom);
    } else if (!fromInput) {
      geometryInput.value = '';
    }
    runCheck();
  }

  function setMode(next) {
    mode = next;
    $('propose-mode-point').setAttribute('aria-pressed', String(next === 'point'));
    $('propose-mode-line').setAttribute('aria-pressed', String(next === 'line'));
    if (map.pm) {
      if (next === 'line') map.pm.enableDraw('Line', {snappable: false, finishOn: 'dblclick'});
      else map.pm.disableDraw();
    }
  }

  let drawnAt = 0;
  map.on('click', (e) => {
    // The taps that finish a line (a double tap) must not then place a point.
    if (mode === 'point' && Date.now() - drawnAt > 700) setGeometry({type: 'Point', coordinates: handle.toLonLat(e.latlng)});
  });
  map.on('pm:create', (e) => {
    drawnAt = Date.now();
    const geom = handle.geometryOf(e.layer);
    map.removeLayer(e.layer);
    setMode('point');
    setGeometry(geom);
  });
  $('propose-mode-point').addEventListener('click', () => setMode('point'));
  $('propose-mode-line').addEventListener('click', () => setMode('line'));

  geometryInput.addEventListener('change', () => {
    const text = geometryInput.value.trim();
    if (!text) { setGeometry(null, true); return; }
    try {
      const geom = JSON.parse(text);
      if (!geom || typeof geom.type !== 'string' || !Array.isArray(geom.coordinates)) throw new Error('shape');
      setGeometry(geom, true);
      const bounds = drawn.getBounds();
      handle.fit(bounds, {maxZoom: 16});
    } catch (err) {
      WB.say(result, 'error', WB.t('propose.geometry_bad'));
    }
  });

  $('propose-locate').addEventListener('click', () => {
    const message = $('propose-locate-message');
    if (!window.isSecureContext || !navigator.geolocation) {
      WB.say(message, 'error', WB.t('propose.locate_https'));
      return;
    }
    WB.say(message, 'busy', WB.t('propose.locating'));
    navigator.geolocation.getCurrentPosition((pos) => {
      const point = {type: 'Point', coordinates: [Number(pos.coords.longitude.toFixed(7)), Number(pos.coords.latitude.toFixed(7))]};
      setGeometry(point);
      map.setView(handle.toLatLng(point.coordinates[0], point.coordinates[1]), 17);
      WB.say(message, 'ok', WB.t('propose.located', {metres: Math.round(pos.coords.accuracy)}));
    }, (err) => WB.say(message, 'error', WB.t('propose.locate_failed') + ' ' + err.message), {enableHighAccuracy: true, timeout: 20000});
  });

  function feature() {
    const props = {name: nameInput.value.trim(), category: category.value};
    const origin = $('propose-origin').value.trim();
    const note = $('propose-note').value.trim();
    if (origin) props.origin = origin;
    if (note) props.note = note;
    return {type: 'Feature', geometry, properties: props};
  }

  async function showConflict(id) {
    const box = part('check-conflict-detail');
    const res = await WB.api('GET', '/v1/place-names/' + encodeURIComponent(id));
    WB.clear(box);
    box.hidden = false;
    conflictsLayer.clearLayers();
    if (!res.ok) { box.append(WB.el('p', {text: WB.errorText(res)})); return; }
    const p = res.data.properties || {};
    box.append(WB.el('p', {}, WB.el('strong', {text: p.name}), ' ', WB.el('span', {lang: 'zh-Latn', text: p.pinyin || ''}),
      ' · ', WB.label('status', p.status), ' · ', WB.label('category_short', p.category), ' · #', String(res.data.id)));
    if (res.data.geometry) {
      handle.geojson(res.data.geometry, {style: {color: '#e67e22', weight: 4, dashArray: '6 4'}}).eachLayer(l => conflictsLayer.addLayer(l));
      const bounds = conflictsLayer.getBounds().extend(drawn.getBounds().isValid() ? drawn.getBounds() : conflictsLayer.getBounds());
      handle.fit(bounds, {maxZoom: 16, padding: [20, 20]});
    }
  }

  function listOf(node, items, render) {
    WB.clear(node);
    for (const item of items || []) node.append(render(item));
  }

  let checkSeq = 0;
  async function doCheck() {
    const name = nameInput.value.trim();
    if (!name) {
      check.dataset.state = 'idle';
      for (const k of ['check-pinyin', 'check-parts', 'check-division']) part(k).textContent = '';
      for (const k of ['check-problems', 'check-conflicts', 'check-warnings']) WB.clear(part(k));
      return;
    }
    const seq = ++checkSeq;
    check.dataset.state = 'busy';
    const body = feature();
    if (!geometry) delete body.geometry;
    if (editing) body.id = Number(editing.id); // a returned proposal does not conflict with itself
    const res = await WB.api('POST', '/v1/place-names/check', {json: body});
    if (seq !== checkSeq) return; // a later keystroke has its own check
    if (!res.ok || !res.data) {
      check.dataset.state = 'error';
      listOf(part('check-problems'), [geometry ? WB.errorText(res) : WB.t('propose.need_geometry')], m => WB.el('li', {text: m}));
      return;
    }
    const c = res.data;
    part('check-pinyin').textContent = c.pinyin || '';
    part('check-parts').textContent = [c.specific, c.generic].filter(Boolean).join(' + ');
    part('check-division').textContent = c.division ? c.division.name + ' (' + c.division.code + ')' : (geometry ? '—' : WB.t('propose.need_geometry'));
    listOf(part('check-problems'), c.problems, p => WB.el('li', {dataset: {rule: p.rule || ''}, text: p.message || p.rule}));
    listOf(part('check-conflicts'), c.conflicts, id => {
      const ident = (id && typeof id === 'object') ? id.id : id;
      const link = WB.el('a', {href: '/v1/place-names/' + encodeURIComponent(ident), dataset: {id: String(ident)}, text: WB.t('propose.conflict_with', {id: ident})});
      link.addEventListener('click', (e) => { e.preventDefault(); showConflict(ident); });
      return WB.el('li', {}, link);
    });
    listOf(part('check-warnings'), c.warnings, w => WB.el('li', {text: typeof w === 'string' ? w : (w.message || w.rule || JSON.stringify(w))}));
    check.dataset.state = c.ok ? 'ok' : 'problems';
    check.dataset.name = body.properties.name; // what this answer is about
    check.dataset.placed = body.geometry ? 'yes' : 'no';
  }
  const runCheck = WB.debounce(doCheck, 300);
  nameInput.addEventListener('input', runCheck);
  category.addEventListener('change', runCheck);

  async function loadForEdit(id) {
    const res = await WB.api('GET', '/v1/place-names/' + encodeURIComponent(id));
    if (!res.ok) { WB.say(result, 'error', WB.errorText(res), res.status); return; }
    const p = res.data.properties || {};
    editing = {id: res.data.id, etag: res.headers.get('ETag') || ('"' + p.version + '"')};
    form.dataset.edit = String(res.data.id);
    const note = $('propose-editing');
    note.hidden = false;
    note.textContent = WB.t('propose.editing', {name: p.name}) + (p.review_comment ? ' — ' + WB.t('field.comment') + ': ' + p.review_comment : '');
    nameInput.value = p.name || '';
    if (p.category) category.value = p.category;
    $('propose-origin').value = p.origin || '';
    $('propose-note').value = p.note || '';
    setGeometry(res.data.geometry);
    const bounds = drawn.getBounds();
    handle.fit(bounds, {maxZoom: 16});
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!nameInput.value.trim()) { WB.say(result, 'error', WB.t('propose.need_name')); nameInput.focus(); return; }
    if (!geometry) { WB.say(result, 'error', WB.t('propose.need_geometry')); return; }
    const body = feature();
    WB.say(result, 'busy', WB.t('app.working'));
    const photo = $('propose-photo').files[0];
    if (photo) {
      try {
        body.properties.attachment_ids = [await WB.attach(photo)];
      } catch (err) {
        WB.say(result, 'error', WB.t('propose.photo_failed') + ' ' + err.message);
        return;
      }
    }
    const res = editing
      ? await WB.api('PUT', '/v1/place-names/' + editing.id, {json: body, headers: {'If-Match': editing.etag}})
      : await WB.api('POST', '/v1/place-names', {json: body});
    if (res.ok) {
      const p = res.data.properties || {};
      WB.clear(result);
      result.dataset.state = 'ok';
      result.dataset.status = String(res.status);
      result.dataset.id = String(res.data.id);
      result.append(WB.el('p', {}, WB.t(editing ? 'propose.resubmitted' : 'propose.created', {id: res.data.id}), ' ',
        WB.el('strong', {text: p.name}), ' ', WB.el('span', {lang: 'zh-Latn', text: p.pinyin || ''}), ' · ', WB.label('status', p.status)));
      result.append(WB.el('p', {}, WB.el('a', {href: '/workbench/mine', text: WB.t('nav.mine')})));
      if (editing) {
        editing.etag = res.headers.get('ETag') || editing.etag;
        return;
      }
      // Proposed: the form is cleared for the next one (its name is now held by this proposal).
      checkSeq++;
      for (const id of ['propose-name', 'propose-origin', 'propose-note', 'propose-photo']) $(id).value = '';
      setGeometry(null);
      doCheck();
      return;
    }
    WB.say(result, 'error', WB.errorText(res), res.status);
    const errs = (res.data && (res.data.errors || res.data.problems)) || [];
    if (errs.length) result.append(WB.el('ul', {}, ...errs.map(e => WB.el('li', {text: e.message || e.rule}))));
    const ids = (res.data && (res.data.conflicts || res.data.conflicting_ids)) || [];
    if (ids.length) {
      result.append(WB.el('ul', {}, ...ids.map(id => {
        const link = WB.el('a', {href: '/v1/place-names/' + encodeURIComponent(id), text: WB.t('propose.conflict_with', {id})});
        link.addEventListener('click', (e) => { e.preventDefault(); showConflict(id); });
        return WB.el('li', {}, link);
      })));
    }
  });

  const edit = new URLSearchParams(location.search).get('edit');
  if (edit && /^\d+$/.test(edit)) loadForEdit(edit);
});
