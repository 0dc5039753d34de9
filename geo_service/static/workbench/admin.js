// Admin: people and keys (a new key shown once), the protected names, forbidden terms and readings
// (/v1/admin/… GET, POST, DELETE), facility types, and the audit log with filters and a CSV export.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const $ = id => document.getElementById(id);
  const message = $('admin-message');
  const body = name => document.querySelector('[data-testid="' + name + '"] tbody') || document.querySelector('[data-testid="' + name + '"]');

  /** The rows of a list answer: an array, or the first array inside an object ({"users": […]}). */
  function rowsOf(data) {
    if (Array.isArray(data)) return data;
    if (data && typeof data === 'object') {
      for (const v of Object.values(data)) if (Array.isArray(v)) return v;
    }
    return [];
  }

  function outcome(res, okKey, values) {
    if (res.ok) WB.say(message, 'ok', WB.t(okKey, values || {}), res.status);
    else WB.say(message, 'error', WB.errorText(res), res.status);
    return res.ok;
  }

  function cells(tr, values) {
    for (const v of values) tr.append(v instanceof Node ? WB.el('td', {}, v) : WB.el('td', {text: v === null || v === undefined ? '' : v}));
    return tr;
  }

  function button(text, testid, onClick, cls) {
    const b = WB.el('button', {type: 'button', class: cls || 'wb-secondary', 'data-testid': testid, text});
    b.addEventListener('click', onClick);
    return b;
  }

  // People
  async function loadUsers() {
    const res = await WB.api('GET', '/v1/admin/users');
    const tbody = WB.clear(body('admin-users'));
    for (const u of rowsOf(res.data)) {
      const off = Boolean(u.disabled_at || u.disabled);
      const tr = WB.el('tr', {'data-testid': 'admin-user-row', 'data-name': u.name, 'data-state': off ? 'disabled' : 'active'});
      // No one disables their own account from here (they would be signed out with no admin left to ask).
      const action = off || u.name === WB.config.user ? '' : button(WB.t('admin.disable'), 'admin-user-disable', async () => {
        if (!window.confirm(WB.t('admin.disable_confirm', {name: u.name}))) return;
        outcome(await WB.api('PATCH', '/v1/admin/users/' + encodeURIComponent(u.name), {json: {disabled: true}}), 'admin.disabled', {name: u.name});
        loadUsers();
      }, 'wb-danger');
      const reset = off ? null : button(WB.t('admin.set_password'), 'admin-user-password-reset', async () => {
        const password = window.prompt(WB.t('admin.new_password', {name: u.name}));
        if (!password) return;
        outcome(await WB.api('PATCH', '/v1/admin/users/' + encodeURIComponent(u.name), {json: {password}}), 'admin.password_set', {name: u.name});
      });
      const actions = WB.el('span', {class: 'wb-row'}, reset, action || null);
      tbody.append(cells(tr, [u.name, WB.label('role', u.role), u.district_code || '', off ? WB.t('field.disabled') : WB.t('admin.active'), actions]));
    }
  }

  $('admin-user-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const json = {name: $('admin-user-name').value.trim(), role: $('admin-user-role').value, password: $('admin-user-password').value};
    if ($('admin-user-district').value) json.district = $('admin-user-district').value;
    if (outcome(await WB.api('POST', '/v1/admin/users', {json}), 'admin.user_added', {name: json.name})) {
      $('admin-user-name').value = '';
      $('admin-user-password').value = '';
    }
    loadUsers();
  });

  // Keys
  async function loadKeys() {
    const res = await WB.api('GET', '/v1/admin/keys');
    const tbody = WB.clear(body('admin-keys'));
    for (const k of rowsOf(res.data)) {
      const off = Boolean(k.revoked_at || k.revoked);
      const tr = WB.el('tr', {'data-testid': 'admin-key-row', 'data-name': k.name, 'data-state': off ? 'revoked' : 'active'});
      const action = off ? '' : button(WB.t('admin.revoke'), 'admin-key-revoke', async () => {
        if (!window.confirm(WB.t('admin.revoke_confirm', {name: k.name}))) return;
        outcome(await WB.api('PATCH', '/v1/admin/keys/' + encodeURIComponent(k.name), {json: {revoked: true}}), 'admin.revoked', {name: k.name});
        loadKeys();
      }, 'wb-danger');
      tbody.append(cells(tr, [k.name, WB.label('role', k.role), k.district_code || '', off ? WB.t('admin.revoked_state') : WB.t('admin.active'), action]));
    }
  }

  $('admin-key-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const json = {name: $('admin-key-name').value.trim(), role: $('admin-key-role').value};
    if ($('admin-key-district').value) json.district = $('admin-key-district').value;
    const res = await WB.api('POST', '/v1/admin/keys', {json});
    const once = $('admin-key-once');
    if (outcome(res, 'admin.key_added', {name: json.name})) {
      WB.clear(once);
      once.hidden = false;
      once.append(WB.el('p', {text: WB.t('admin.key_once')}), WB.el('code', {'data-testid': 'admin-key-value', text: res.data.key}));
      $('admin-key-name').value = '';
    }
    loadKeys();
  });

  // Protected names, forbidden terms, readings: one shape each (GET list, POST one, DELETE by id).
  const lists = [
    {url: '/v1/admin/protected-names', list: 'admin-protected-list', form: 'admin-protected-form', row: 'admin-protected-row',
      show: r => r.name + (r.reason ? ' — ' + r.reason : ''),
      body: () => ({name: $('admin-protected-name').value.trim(), reason: $('admin-protected-reason').value.trim() || null}),
      reset: ['admin-protected-name', 'admin-protected-reason']},
    {url: '/v1/admin/forbidden-terms', list: 'admin-term-list', form: 'admin-term-form', row: 'admin-term-row',
      show: r => r.term + ' · ' + WB.label('term', r.kind),
      body: () => ({term: $('admin-term').value.trim(), kind: $('admin-term-kind').value}), reset: ['admin-term']},
    {url: '/v1/admin/readings', list: 'admin-reading-list', form: 'admin-reading-form', row: 'admin-reading-row',
      show: r => r.phrase + ' → ' + r.reading,
      body: () => ({phrase: $('admin-reading-phrase').value.trim(), reading: $('admin-reading').value.trim()}),
      reset: ['admin-reading-phrase', 'admin-reading']},
  ];

  async function loadList(spec) {
    const res = await WB.api('GET', spec.url);
    const ul = WB.clear(body(spec.list));
    ul.dataset.state = res.ok ? 'ready' : 'error';
    for (const r of rowsOf(res.data)) {
      const li = WB.el('li', {'data-testid': spec.row, 'data-id': r.id === undefined ? '' : String(r.id)}, WB.el('span', {text: spec.show(r)}), ' ');
      if (r.id !== undefined) {
        li.append(button(WB.t('app.delete'), spec.row + '-delete', async () => {
          if (!window.confirm(WB.t('admin.delete_confirm', {name: spec.show(r)}))) return;
          outcome(await WB.api('DELETE', spec.url + '/' + encodeURIComponent(r.id)), 'admin.deleted', {name: spec.show(r)});
          loadList(spec);
        }));
      }
      ul.append(li);
    }
  }

  for (const spec of lists) {
    $(spec.form).addEventListener('submit', async (e) => {
      e.preventDefault();
      const json = spec.body();
      if (outcome(await WB.api('POST', spec.url, {json}), 'admin.added', {name: spec.show(json)})) {
        for (const id of spec.reset) $(id).value = '';
      }
      loadList(spec);
    });
  }

  // Facility types
  async function loadTypes() {
    const res = await WB.api('GET', '/v1/facilities/types');
    const tbody = WB.clear(body('admin-types'));
    for (const ft of rowsOf(res.data)) {
      tbody.append(cells(WB.el('tr', {'data-testid': 'admin-type-row', 'data-code': ft.code}),
        [ft.code, WB.config.lang === 'zh' ? ft.name_zh : ft.name_en, WB.number(ft.default_radius_m) + ' m', WB.label('plan.mode', ft.default_mode)]));
    }
  }

  $('admin-type-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const json = {code: $('admin-type-code').value.trim(), collection: $('admin-type-collection').value.trim(),
      name_zh: $('admin-type-zh').value.trim(), name_en: $('admin-type-en').value.trim(),
      default_radius_m: Number($('admin-type-radius').value), default_mode: $('admin-type-mode').value,
      presence_level: $('admin-type-level').value};
    outcome(await WB.api('POST', '/v1/admin/facility-types', {json}), 'admin.added', {name: json.code});
    loadTypes();
  });

  // Audit log
  function auditQuery(format) {
    const q = new URLSearchParams({format});
    if ($('admin-audit-since').value) q.set('since', $('admin-audit-since').value);
    if ($('admin-audit-actor').value.trim()) q.set('actor', $('admin-audit-actor').value.trim());
    if ($('admin-audit-table').value) q.set('table', $('admin-audit-table').value);
    return '/v1/admin/audit?' + q.toString();
  }

  function change(entry) {
    const after = entry.after || entry.new || null;
    const before = entry.before || entry.old || null;
    const text = JSON.stringify(after || before || {});
    return text.length > 160 ? text.slice(0, 157) + '…' : text;
  }

  async function loadAudit() {
    const table = $('audit-table');
    table.dataset.state = 'loading';
    $('admin-audit-export').setAttribute('href', auditQuery('csv'));
    const res = await WB.api('GET', auditQuery('json'));
    const tbody = WB.clear(body('audit-table'));
    if (!res.ok) {
      table.dataset.state = 'error';
      tbody.append(WB.el('tr', {}, WB.el('td', {colspan: '6', text: WB.errorText(res)})));
      return;
    }
    const rows = rowsOf(res.data);
    for (const a of rows) {
      tbody.append(cells(WB.el('tr', {'data-testid': 'audit-row'}), [String(a.at || a.created_at || a.time || '').replace('T', ' ').slice(0, 19),
        a.actor, a.action, a.table || a.entity || a.table_name, a.entity_id || a.row_id || a.key, change(a)]));
    }
    table.dataset.state = 'ready';
    table.dataset.count = String(rows.length);
  }

  $('admin-audit-form').addEventListener('submit', (e) => { e.preventDefault(); loadAudit(); });

  loadUsers();
  loadKeys();
  for (const spec of lists) loadList(spec);
  loadTypes();
  loadAudit();
});
