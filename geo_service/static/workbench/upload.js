// Upload a file of names: a dry run first shows every row (name, pinyin, division, problems); commit writes it.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const $ = id => document.getElementById(id);
  const form = $('upload-form');
  const commit = $('upload-commit');
  const preview = $('upload-preview');
  const body = preview.querySelector('tbody');
  const message = $('upload-message');
  let checked = null; // the file that passed its dry run

  function formData(dryRun) {
    const data = new FormData();
    const file = $('upload-file').files[0];
    data.append('file', file, file.name);
    data.append('crs', $('upload-crs').value);
    if ($('upload-category').value) data.append('category', $('upload-category').value);
    data.append('dry_run', dryRun ? 'true' : 'false');
    return data;
  }

  function division(f) {
    if (f.division && typeof f.division === 'object') return f.division.name + ' (' + f.division.code + ')';
    return f.division_name ? f.division_name + ' (' + f.division_code + ')' : (f.division_code || '—');
  }

  function show(features, errors) {
    WB.clear(body);
    const problems = new Map();
    for (const e of errors) {
      const list = problems.get(e.index) || [];
      list.push(e);
      problems.set(e.index, list);
    }
    const rows = new Map();
    for (const f of features) rows.set(f.index, f);
    for (const e of errors) if (!rows.has(e.index)) rows.set(e.index, {index: e.index, row: e.row, name: e.name});
    const ordered = [...rows.values()].sort((a, b) => a.index - b.index);
    for (const f of ordered) {
      const bad = (problems.get(f.index) || []).concat((f.problems || []).map(p => Object.assign({index: f.index}, p)));
      const tr = WB.el('tr', {'data-testid': 'upload-row', 'data-index': f.index, 'data-state': bad.length ? 'problems' : 'ok'});
      tr.append(WB.el('td', {text: f.row !== undefined ? f.row : f.index + 1}));
      tr.append(WB.el('td', {text: f.name || ''}));
      tr.append(WB.el('td', {lang: 'zh-Latn', text: f.pinyin || ''}));
      tr.append(WB.el('td', {text: division(f)}));
      const cell = WB.el('td');
      const warnings = (f.warnings || []).map(w => typeof w === 'string' ? w : (w.message || w.rule));
      if (bad.length) cell.append(WB.el('ul', {}, ...bad.map(p => WB.el('li', {'data-rule': p.rule || '', text: p.message || p.rule}))));
      if (warnings.length) cell.append(WB.el('ul', {class: 'wb-warnings'}, ...warnings.map(w => WB.el('li', {text: w}))));
      if (!bad.length && !warnings.length) cell.textContent = '✓';
      tr.append(cell);
      body.append(tr);
    }
    preview.dataset.state = errors.length ? 'problems' : 'ok';
    preview.dataset.rows = String(ordered.length);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    commit.disabled = true;
    checked = null;
    const file = $('upload-file').files[0];
    if (!file) { WB.say(message, 'error', WB.t('upload.need_file')); return; }
    WB.say(message, 'busy', WB.t('app.working'));
    preview.dataset.state = 'loading';
    const res = await WB.api('POST', '/v1/submissions', {form: formData(true)});
    if (res.ok) {
      show(res.data.features || [], []);
      checked = file;
      commit.disabled = false;
      WB.say(message, 'ok', WB.t('upload.checked', {count: (res.data.features || []).length}), res.status);
    } else if (res.data && Array.isArray(res.data.errors)) {
      show(res.data.features || [], res.data.errors);
      WB.say(message, 'error', WB.errorText(res), res.status);
    } else {
      WB.clear(body);
      preview.dataset.state = 'error';
      WB.say(message, 'error', WB.errorText(res), res.status);
    }
  });

  $('upload-file').addEventListener('change', () => { commit.disabled = true; checked = null; });
  for (const id of ['upload-crs', 'upload-category']) $(id).addEventListener('change', () => { commit.disabled = true; checked = null; });

  commit.addEventListener('click', async () => {
    if (!checked) return;
    commit.disabled = true;
    WB.say(message, 'busy', WB.t('app.working'));
    const res = await WB.api('POST', '/v1/submissions', {form: formData(false)});
    if (res.ok) {
      show(res.data.features || [], []);
      preview.dataset.state = 'committed';
      message.dataset.submission = res.data.submission_id || '';
      WB.say(message, 'committed', WB.t('upload.committed', {count: res.data.feature_count || (res.data.features || []).length, id: res.data.submission_id}), res.status);
      message.append(' ', WB.el('a', {href: '/workbench/mine', text: WB.t('nav.mine')}));
      checked = null;
    } else {
      WB.say(message, 'error', WB.errorText(res), res.status);
      if (res.data && Array.isArray(res.data.errors)) show([], res.data.errors);
    }
  });
});
