// Inspections: boundary markers and place-name signs due (GET /v1/inspections/due) near me or in a district, on
// the map and in a list; record status, note, photo (and where it stands); signs to replace as work orders, and
// retiring a sign once it is down (replaced or removed: POST …/retire with If-Match, the version just read).
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const $ = id => document.getElementById(id);
  const list = $('inspect-list');
  const message = $('inspect-message');
  const form = $('inspect-form');
  const handle = WB.makeMap($('inspect-map'));
  const map = handle.map;
  const dueLayer = L.featureGroup().addTo(map);
  const items = new Map();
  let target = null;
  let here = null; // the phone's position, when it gave one

  const COLOURS = {intact: '#1a9850', damaged: '#fc8d59', missing: '#d73027', moved: '#7b3294'};

  function kindOf(f) {
    const p = f.properties || {};
    if (p.kind === 'sign' || p.kind === 'marker') return p.kind;
    return p.text !== undefined ? 'sign' : 'marker';
  }

  /** The marker's or sign's own id (the due list names features "marker-12", with record_id 12). */
  function recordId(f) {
    const p = f.properties || {};
    return p.record_id !== undefined ? p.record_id : f.id;
  }

  function keyOf(f) {
    return kindOf(f) + ':' + recordId(f);
  }

  function title(f) {
    const p = f.properties || {};
    if (kindOf(f) === 'sign') return WB.t('inspect.sign', {text: p.label || p.text || '', id: recordId(f)});
    return WB.t('inspect.marker', {number: p.label || p.number || ''});
  }

  function pick(key) {
    const f = items.get(key);
    if (!f) return;
    target = f;
    for (const li of list.querySelectorAll('[data-testid="inspect-row"]')) li.setAttribute('aria-current', String(li.dataset.key === key));
    $('inspect-form-title').textContent = title(f);
    $('inspect-form-title').dataset.key = key;
    $('inspect-submit').disabled = false;
    if (kindOf(f) === 'sign') $('inspect-retire-sign').value = String(recordId(f));
    const status = (f.properties || {}).status;
    if (status && [...$('inspect-status').options].some(o => o.value === status)) $('inspect-status').value = status;
    if (f.geometry) map.setView(handle.toLatLng(f.geometry.coordinates[0], f.geometry.coordinates[1]), Math.max(map.getZoom(), 15));
  }

  function row(f) {
    const p = f.properties || {};
    const key = keyOf(f);
    const li = WB.el('li', {class: 'wb-card', 'data-testid': 'inspect-row', 'data-key': key, 'data-kind': kindOf(f), 'data-id': String(recordId(f)), 'data-due': p.due_because || ''});
    const open = WB.el('button', {type: 'button', class: 'wb-link', 'data-testid': 'inspect-pick', text: title(f)});
    open.addEventListener('click', () => { pick(key); $('inspect-status').focus(); });
    li.append(WB.el('h3', {}, open));
    const facts = [WB.label('marker', p.status || ''), WB.t('field.last_inspected') + ': ' + (p.last_inspected_on || WB.t('inspect.never'))];
    if (p.district_code) facts.push(p.district_code);
    if (p.to_replace || p.due_because === 'to_replace') facts.push(WB.t('inspect.to_replace'));
    if (p.distance_m !== undefined && p.distance_m !== null) facts.push(WB.number(p.distance_m) + ' m');
    li.append(WB.el('p', {text: facts.join(' · ')}));
    return li;
  }

  async function load(near) {
    const q = new URLSearchParams();
    if (near) { q.set('near', near[0] + ',' + near[1]); q.set('radius_m', '5000'); }
    else if ($('inspect-district').value) q.set('district', $('inspect-district').value);
    list.dataset.state = 'loading';
    const res = await WB.api('GET', '/v1/inspections/due?' + q.toString());
    WB.clear(list);
    items.clear();
    dueLayer.clearLayers();
    if (!res.ok) {
      list.dataset.state = 'error';
      WB.say(message, 'error', WB.errorText(res), res.status);
      return;
    }
    const features = res.data.features || [];
    for (const f of features) {
      items.set(keyOf(f), f);
      list.append(row(f));
      if (!f.geometry) continue;
      const [lon, lat] = f.geometry.coordinates;
      const status = (f.properties || {}).status;
      const m = L.circleMarker(handle.toLatLng(lon, lat), {radius: kindOf(f) === 'sign' ? 6 : 8, color: '#222', weight: 1,
        fillColor: COLOURS[status] || '#4575b4', fillOpacity: 0.9});
      m.bindTooltip(title(f));
      m.on('click', () => pick(keyOf(f)));
      dueLayer.addLayer(m);
    }
    if (!features.length) list.append(WB.el('li', {class: 'wb-empty', text: WB.t('inspect.none_due')}));
    list.dataset.state = 'ready';
    list.dataset.count = String(features.length);
    const bounds = dueLayer.getBounds();
    handle.fit(bounds, {maxZoom: 15, padding: [20, 20]});
  }

  async function loadOrders() {
    const district = $('inspect-district').value;
    const q = 'to_replace=true' + (district ? '&district=' + district : '');
    $('inspect-orders-csv').href = '/v1/place-name-signs?' + q + '&format=csv';
    const res = await WB.api('GET', '/v1/place-name-signs?' + q);
    const tbody = WB.clear(document.querySelector('[data-testid="inspect-work-orders"] tbody'));
    for (const f of (res.ok && res.data.features) || []) {
      const p = f.properties || {};
      const pos = f.geometry ? f.geometry.coordinates.map(v => v.toFixed(5)).join(', ') : '';
      tbody.append(WB.el('tr', {'data-testid': 'inspect-work-order', 'data-id': String(f.id)},
        WB.el('td', {text: '#' + f.id}), WB.el('td', {text: p.text || ''}), WB.el('td', {text: p.current_name || p.place_name || ''}),
        WB.el('td', {text: p.last_inspected_on || ''}), WB.el('td', {text: pos}), WB.el('td', {class: 'wb-noprint'}, retireButton(f.id))));
    }
  }

  $('inspect-filters').addEventListener('submit', (e) => { e.preventDefault(); load(null); loadOrders(); });
  $('inspect-near').addEventListener('click', () => {
    if (!window.isSecureContext || !navigator.geolocation) {
      WB.say(message, 'error', WB.t('inspect.near_https'));
      const c = map.getCenter();
      load(handle.toLonLat(c));
      return;
    }
    navigator.geolocation.getCurrentPosition((pos) => {
      here = [Number(pos.coords.longitude.toFixed(7)), Number(pos.coords.latitude.toFixed(7))];
      load(here);
    }, (err) => WB.say(message, 'error', WB.t('propose.locate_failed') + ' ' + err.message), {enableHighAccuracy: true, timeout: 20000});
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!target) return;
    const kind = kindOf(target);
    const json = {status: $('inspect-status').value, inspected_on: WB.today()};
    const note = $('inspect-note').value.trim();
    if (note) json.note = note;
    if ($('inspect-here').checked && here) json.position = {type: 'Point', coordinates: here};
    $('inspect-submit').disabled = true;
    WB.say(message, 'busy', WB.t('app.working'));
    const photo = $('inspect-photo').files[0];
    if (photo) {
      try {
        json.attachment_ids = [await WB.attach(photo)];
      } catch (err) {
        WB.say(message, 'error', WB.t('propose.photo_failed') + ' ' + err.message);
        $('inspect-submit').disabled = false;
        return;
      }
    }
    const url = (kind === 'sign' ? '/v1/place-name-signs/' : '/v1/boundary-markers/') + recordId(target) + '/inspections';
    const res = await WB.api('POST', url, {json});
    if (res.ok) {
      WB.say(message, 'ok', WB.t('inspect.recorded', {what: title(target)}), res.status);
      message.dataset.key = keyOf(target);
      $('inspect-note').value = '';
      $('inspect-photo').value = '';
      target = null;
      $('inspect-form-title').textContent = WB.t('inspect.pick');
      await load(null);
      loadOrders();
    } else {
      WB.say(message, 'error', WB.errorText(res), res.status);
      $('inspect-submit').disabled = false;
    }
  });

  function retireButton(id) {
    const b = WB.el('button', {type: 'button', class: 'wb-link', 'data-testid': 'inspect-retire-pick', text: WB.t('inspect.retire')});
    b.addEventListener('click', () => {
      $('inspect-retire-sign').value = String(id);
      $('inspect-retire-reason').value = 'replaced';
      $('inspect-retire-on').focus();
    });
    return b;
  }

  $('inspect-retire-on').value = WB.today();
  $('inspect-retire').addEventListener('submit', async (e) => {
    e.preventDefault();
    const said = $('inspect-retire-message');
    const id = Number($('inspect-retire-sign').value);
    if (!Number.isInteger(id) || id < 1) { $('inspect-retire-sign').focus(); return; }
    WB.say(said, 'busy', WB.t('app.working'));
    // If-Match: the version read now, so a sign someone changed meanwhile is not retired blind (412).
    const sign = await WB.api('GET', '/v1/place-name-signs/' + id);
    const res = sign.ok
      ? await WB.api('POST', '/v1/place-name-signs/' + id + '/retire', {
        json: {reason: $('inspect-retire-reason').value, on: $('inspect-retire-on').value},
        headers: {'If-Match': sign.headers.get('etag') || ''}})
      : sign;
    if (!res.ok) { WB.say(said, 'error', WB.errorText(res), res.status); return; }
    WB.say(said, 'ok', WB.t('inspect.retired', {id: String(id)}), res.status);
    said.dataset.id = String(id);
    await load(null);
    loadOrders();
  });

  $('inspect-print').addEventListener('click', () => window.print());
  load(null);
  loadOrders();
});
