// "My submissions": the surveyor's own proposals in every status, with the reviewer's comment; withdraw a
// pending or returned one, edit a returned one (on the proposal page, sent back with PUT and If-Match).
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const list = document.getElementById('mine-list');
  const message = document.getElementById('mine-message');

  async function withdraw(feature) {
    if (!window.confirm(WB.t('mine.withdraw_confirm', {name: feature.properties.name}))) return;
    const res = await WB.api('POST', '/v1/place-names/' + feature.id + '/withdraw',
      {headers: {'If-Match': '"' + feature.properties.version + '"'}});
    if (res.ok) WB.say(message, 'ok', WB.t('mine.withdrawn', {name: feature.properties.name}), res.status);
    else WB.say(message, 'error', WB.errorText(res), res.status);
    await load();
  }

  function row(feature) {
    const p = feature.properties || {};
    const item = WB.el('li', {class: 'wb-card', dataset: {id: String(feature.id), status: p.status || ''}});
    item.setAttribute('data-testid', 'mine-row');
    item.append(WB.el('h2', {}, WB.el('span', {text: p.name}), ' ', WB.el('small', {lang: 'zh-Latn', text: p.pinyin || ''})));
    item.append(WB.el('p', {},
      WB.el('span', {class: 'wb-badge wb-status-' + (p.status || ''), 'data-testid': 'mine-status', 'data-status': p.status || '', text: WB.label('status', p.status)}),
      ' ', WB.label('category_short', p.category), p.division_code ? ' · ' + p.division_code : '',
      p.created_at ? ' · ' + String(p.created_at).slice(0, 10) : '', ' · #' + feature.id));
    if (p.review_comment || p.reviewed_by) {
      item.append(WB.el('p', {class: 'wb-comment'}, WB.el('span', {text: WB.t('field.comment') + (p.reviewed_by ? ' (' + p.reviewed_by + ')' : '') + ': '}),
        WB.el('span', {'data-testid': 'mine-comment', text: p.review_comment || ''})));
    }
    const actions = WB.el('p', {class: 'wb-row'});
    if (p.status === 'returned') {
      actions.append(WB.el('a', {class: 'wb-button', href: '/workbench/propose?edit=' + feature.id, 'data-testid': 'mine-edit', text: WB.t('mine.edit')}));
    }
    if (p.status === 'proposed' || p.status === 'returned') {
      const button = WB.el('button', {type: 'button', class: 'wb-secondary', 'data-testid': 'mine-withdraw', text: WB.t('mine.withdraw')});
      button.addEventListener('click', () => withdraw(feature));
      actions.append(button);
    }
    if (actions.childNodes.length) item.append(actions);
    return item;
  }

  async function load() {
    list.dataset.state = 'loading';
    const res = await WB.api('GET', '/v1/place-names?mine=true&sort=-created&limit=500');
    WB.clear(list);
    if (!res.ok) {
      list.dataset.state = 'error';
      WB.say(message, 'error', WB.errorText(res), res.status);
      return;
    }
    const features = res.data.features || [];
    for (const f of features) list.append(row(f));
    if (!features.length) list.append(WB.el('li', {class: 'wb-empty', text: WB.t('mine.empty')}));
    list.dataset.state = 'ready';
    list.dataset.count = String(features.length);
  }

  document.getElementById('mine-reload').addEventListener('click', load);
  load();
});
