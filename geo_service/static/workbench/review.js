// The review queue: filters, a proposal on the map beside nearby and conflicting names and its place's history,
// approve / reject / return with a comment (If-Match: the version this page showed, so a decision someone else
// made first comes back 412 and is shown, never overwritten), and approving several clean ones at once.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const $ = id => document.getElementById(id);
  const queue = $('review-queue');
  const tbody = queue.querySelector('tbody');
  const message = $('review-message');
  const detail = $('review-detail');
  const part = name => detail.querySelector('[data-testid="' + name + '"]');
  const buttons = ['review-approve', 'review-return', 'review-reject'].map($);
  const handle = WB.makeMap($('review-map'));
  const map = handle.map;
  const layers = {
    nearby: L.featureGroup().addTo(map),
    conflicts: L.featureGroup().addTo(map),
    proposal: L.featureGroup().addTo(map),
  };
  let features = new Map();
  let current = null;

  /** An outcome, where the reviewer is looking (the message sits under the decision buttons). */
  function tell(state, text, status) {
    WB.say(message, state, text, status);
    message.scrollIntoView({block: 'nearest'});
  }

  function isoDaysAgo(days) {
    const d = new Date(Date.now() - days * 86400000);
    return d.toISOString().slice(0, 10);
  }

  function queueUrl() {
    const q = new URLSearchParams({status: 'proposed', sort: 'created', limit: '200'});
    const district = $('review-filter-district').value;
    const category = $('review-filter-category').value;
    const proposer = $('review-filter-proposer').value.trim();
    const age = $('review-filter-age').value;
    if (district) q.set('district', district);
    if (category) q.set('category', category);
    if (proposer) q.set('proposed_by', proposer);
    if (age) q.set('since', isoDaysAgo(Number(age)));
    return '/v1/place-names?' + q.toString();
  }

  function clean(f) {
    const w = f.properties.warnings;
    return !w || (Array.isArray(w) && w.length === 0);
  }

  function updateSelected() {
    const picked = tbody.querySelectorAll('input[data-testid="review-select"]:checked').length;
    $('review-approve-selected').disabled = picked === 0;
  }

  function row(f) {
    const p = f.properties;
    const tr = WB.el('tr', {'data-testid': 'review-row', 'data-id': String(f.id), 'data-version': String(p.version), 'aria-selected': 'false'});
    const box = WB.el('input', {type: 'checkbox', 'data-testid': 'review-select', 'aria-label': WB.t('review.select_one', {name: p.name}), disabled: !clean(f)});
    box.addEventListener('change', updateSelected);
    const open = WB.el('button', {type: 'button', class: 'wb-link', 'data-testid': 'review-open', text: p.name});
    open.addEventListener('click', () => show(f.id));
    tr.append(WB.el('td', {}, box), WB.el('td', {}, open, clean(f) ? null : WB.el('span', {class: 'wb-badge wb-status-returned', title: WB.t('review.has_warnings'), text: '!'})),
      WB.el('td', {text: WB.label('category_short', p.category)}), WB.el('td', {text: p.proposed_by || ''}),
      WB.el('td', {text: p.created_at ? String(p.created_at).slice(0, 10) : ''}));
    return tr;
  }

  let loads = 0;
  async function load() {
    const seq = ++loads;
    const url = queueUrl();
    queue.dataset.state = 'loading';
    const res = await WB.api('GET', url);
    if (seq !== loads) return; // the filters changed meanwhile: a later answer fills the queue
    WB.clear(tbody);
    features = new Map();
    if (!res.ok) {
      queue.dataset.state = 'error';
      tell('error', WB.errorText(res), res.status);
      return;
    }
    for (const f of res.data.features || []) {
      features.set(String(f.id), f);
      tbody.append(row(f));
    }
    if (!features.size) tbody.append(WB.el('tr', {}, WB.el('td', {colspan: '5', class: 'wb-empty', text: WB.t('review.empty')})));
    queue.dataset.state = 'ready';
    queue.dataset.query = url;
    queue.dataset.count = String(features.size);
    updateSelected();
  }

  function centre(geometry) {
    if (geometry.type === 'Point') return geometry.coordinates;
    const coords = geometry.type === 'LineString' ? geometry.coordinates : geometry.coordinates.flat(1);
    return coords[Math.floor(coords.length / 2)];
  }

  function fact(dl, key, value) {
    if (value === null || value === undefined || value === '') return;
    dl.append(WB.el('dt', {text: WB.t(key)}), WB.el('dd', {text: value}));
  }

  function drawNames(layer, list, colour) {
    layer.clearLayers();
    for (const f of list) {
      if (!f.geometry) continue;
      handle.geojson(f.geometry, {
        style: {color: colour, weight: 4},
        pointToLayer: (feat, latlng) => L.circleMarker(latlng, {radius: 7, color: colour, weight: 3, fillOpacity: 0.6}),
      }).eachLayer(l => { l.bindTooltip(String(f.properties.name || '')); layer.addLayer(l); });
    }
  }

  async function show(id) {
    const f = features.get(String(id));
    if (!f) return;
    current = {id: f.id, version: f.properties.version, feature: f};
    for (const tr of tbody.querySelectorAll('tr')) tr.setAttribute('aria-selected', String(tr.dataset.id === String(id)));
    const p = f.properties;
    part('review-detail-name').textContent = p.name + (p.pinyin ? ' · ' + p.pinyin : '');
    detail.dataset.id = String(f.id);
    const dl = WB.clear(part('review-facts'));
    fact(dl, 'field.category', WB.label('category_short', p.category));
    fact(dl, 'field.parts', [p.specific, p.generic].filter(Boolean).join(' + '));
    fact(dl, 'field.division', p.division_code);
    fact(dl, 'field.proposer', p.proposed_by);
    fact(dl, 'field.created', p.created_at ? String(p.created_at).slice(0, 10) : '');
    fact(dl, 'propose.origin', p.origin);
    fact(dl, 'field.note', p.note);
    fact(dl, 'review.justification', p.justification);
    if (p.protected) fact(dl, 'review.protected', WB.t('review.protected_yes'));
    const warnings = WB.clear(part('review-warnings'));
    for (const w of p.warnings || []) warnings.append(WB.el('li', {text: typeof w === 'string' ? w : (w.message || w.rule)}));
    for (const b of buttons) b.disabled = false;
    $('review-comment').value = '';
    drawNames(layers.proposal, [f], '#c0392b');
    const bounds = layers.proposal.getBounds();
    handle.fit(bounds, {maxZoom: 16, padding: [30, 30]});
    const [lon, lat] = centre(f.geometry);
    const [near, checked, history] = await Promise.all([
      WB.api('GET', '/v1/place-names?near=' + lon + ',' + lat + '&radius_m=1000&limit=30'),
      WB.api('POST', '/v1/place-names/check', {json: {type: 'Feature', id: Number(f.id), geometry: f.geometry, properties: {name: p.name, category: p.category}}}),
      WB.api('GET', '/v1/place-names/' + (p.rename_of || f.id)),
    ]);
    if (!current || current.id !== f.id) return;
    const nearby = near.ok ? (near.data.features || []).filter(n => String(n.id) !== String(f.id)) : [];
    drawNames(layers.nearby, nearby, '#1f6fb2');
    const list = WB.clear(part('review-nearby'));
    for (const n of nearby.slice(0, 15)) list.append(WB.el('li', {text: n.properties.name + ' · ' + WB.label('status', n.properties.status)}));
    const conflictIds = checked.ok ? (checked.data.conflicts || []).map(c => String(typeof c === 'object' ? c.id : c)).filter(c => c !== String(f.id)) : [];
    const conflicts = [];
    for (const cid of conflictIds.slice(0, 10)) {
      const r = await WB.api('GET', '/v1/place-names/' + cid);
      if (r.ok) conflicts.push(r.data);
    }
    drawNames(layers.conflicts, conflicts, '#e67e22');
    for (const c of conflicts) list.prepend(WB.el('li', {class: 'wb-problems', 'data-testid': 'review-conflict', text: WB.t('propose.conflict_with', {id: c.id}) + ': ' + c.properties.name}));
    const hist = WB.clear(part('review-history'));
    if (history.ok) {
      const h = history.data;
      if (p.rename_of) hist.append(WB.el('li', {text: WB.t('review.renames', {name: h.properties.name})}));
      for (const e of h.properties.history || h.history || []) {
        hist.append(WB.el('li', {text: (e.name || '') + ' ' + (e.valid_from || '') + ' – ' + (e.valid_to || '') + (e.reason ? ' · ' + e.reason : '')}));
      }
    }
    if (!hist.childNodes.length) hist.append(WB.el('li', {class: 'wb-empty', text: WB.t('review.no_history')}));
  }

  async function decide(id, version, decision, comment, ref) {
    const body = {decision};
    if (comment) body.comment = comment;
    if (ref && decision === 'approve') body.approval_ref = ref;
    return WB.api('POST', '/v1/place-names/' + id + '/review', {json: body, headers: {'If-Match': '"' + version + '"'}});
  }

  async function explainStale(id, res) {
    const now = await WB.api('GET', '/v1/place-names/' + id);
    const p = now.ok ? now.data.properties : {};
    const state = res.status === 412 ? 'stale' : 'conflict';
    tell(state, WB.t(res.status === 412 ? 'review.stale' : 'review.decided', {status: WB.label('status', p.status || '?'), who: p.reviewed_by || '?'}), res.status);
  }

  async function decideCurrent(decision) {
    if (!current) return;
    const comment = $('review-comment').value.trim();
    if (decision !== 'approve' && !comment) {
      tell('error', WB.t('review.need_comment'));
      $('review-comment').focus();
      return;
    }
    for (const b of buttons) b.disabled = true;
    const res = await decide(current.id, current.version, decision, comment, $('review-approval-ref').value.trim());
    if (res.ok) {
      const done = {approve: WB.t('review.done_approve'), reject: WB.t('review.done_reject'), return: WB.t('review.done_return')}[decision];
      tell('ok', done.split('{name}').join(current.feature.properties.name), res.status);
      current = null;
      await load();
      return;
    }
    if (res.status === 412 || res.status === 409) {
      await explainStale(current.id, res);
      return; // the buttons stay off: this page's copy is out of date
    }
    tell('error', WB.errorText(res), res.status);
    for (const b of buttons) b.disabled = false;
  }

  $('review-approve').addEventListener('click', () => decideCurrent('approve'));
  $('review-reject').addEventListener('click', () => decideCurrent('reject'));
  $('review-return').addEventListener('click', () => decideCurrent('return'));

  $('review-approve-selected').addEventListener('click', async () => {
    const picked = [...tbody.querySelectorAll('input[data-testid="review-select"]:checked')].map(b => b.closest('tr'));
    $('review-approve-selected').disabled = true;
    let done = 0;
    const failed = [];
    for (const tr of picked) {
      const res = await decide(tr.dataset.id, tr.dataset.version, 'approve', '', '');
      if (res.ok) done++;
      else failed.push({id: tr.dataset.id, status: res.status, text: WB.errorText(res)});
    }
    tell(failed.length ? 'error' : 'ok', WB.t('review.done_many', {done, failed: failed.length}), failed.length ? failed[0].status : 200);
    if (failed.length) message.append(WB.el('ul', {}, ...failed.map(f => WB.el('li', {text: '#' + f.id + ' (' + f.status + '): ' + f.text}))));
    await load();
  });

  $('review-filters').addEventListener('submit', (e) => { e.preventDefault(); load(); });
  for (const id of ['review-filter-district', 'review-filter-category', 'review-filter-age']) $(id).addEventListener('change', load);
  load();
});
