// The workbench's shared part: messages, calls to the API with the CSRF token, building elements safely.
// Every text from the service goes into the page through textContent (never innerHTML).
'use strict';

(function () {
  const config = JSON.parse(document.getElementById('wb-config').textContent);
  const messages = config.messages || {};

  /** The message `key` in the page's language, with {name} placeholders filled. */
  function t(key, values) {
    let text = messages[key] || key;
    if (values) {
      for (const [name, value] of Object.entries(values)) text = text.split('{' + name + '}').join(String(value));
    }
    return text;
  }

  function cookie(name) {
    for (const part of document.cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === name) return decodeURIComponent(v.join('='));
    }
    return '';
  }

  function signInAgain() {
    location.href = '/workbench/login?next=' + encodeURIComponent(location.pathname + location.search);
  }

  /** Call the API: JSON in and out, the CSRF token on unsafe methods; {ok, status, data, headers}. */
  async function api(method, url, options) {
    const opts = options || {};
    const headers = Object.assign({'Accept': 'application/json', 'Accept-Language': config.lang}, opts.headers || {});
    let body;
    if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = cookie('csrf_token');
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.form) {
      body = opts.form;
    }
    let response;
    try {
      response = await fetch(url, {method, headers, body, credentials: 'same-origin', cache: 'no-store'});
    } catch (err) {
      return {ok: false, status: 0, data: {detail: t('error.network')}, headers: new Headers()};
    }
    let data = null;
    const type = response.headers.get('content-type') || '';
    if (type.includes('json')) {
      try { data = await response.json(); } catch (err) { data = null; }
    } else if (!response.ok) {
      data = {detail: (await response.text()).slice(0, 300)};
    }
    if (response.status === 401 && !opts.noRedirect) signInAgain();
    return {ok: response.ok, status: response.status, data, headers: response.headers};
  }

  /** A person-readable text of an error answer (detail as text, or FastAPI's list of field errors). */
  function errorText(res) {
    const d = res.data && res.data.detail;
    if (typeof d === 'string') return d;
    if (Array.isArray(d)) return d.map(e => (e.loc ? e.loc.slice(1).join('.') + ': ' : '') + (e.msg || e.message || '')).join('; ');
    return t('error.status', {status: res.status});
  }

  /** An element with attributes and text (text through textContent only). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') node.textContent = String(v);
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  /** Show an outcome in a message area: its text, and its state and HTTP status as data attributes. */
  function say(node, state, text, status) {
    node.textContent = text;
    node.dataset.state = state;
    if (status !== undefined) node.dataset.status = String(status);
    else delete node.dataset.status;
  }

  function number(value, digits) {
    if (value === null || value === undefined) return '—';
    return Number(value).toLocaleString(config.lang === 'zh' ? 'zh-CN' : 'en', {maximumFractionDigits: digits === undefined ? 0 : digits});
  }

  function percent(ratio) {
    return ratio === null || ratio === undefined ? '—' : (ratio * 100).toFixed(1) + '%';
  }

  /** A label from the catalogue for a code (status.approved …), the code itself when there is none. */
  function label(prefix, code) {
    const key = prefix + '.' + code;
    return messages[key] || String(code);
  }

  function today() {
    const d = new Date();
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  }

  /** Run a function after a pause in typing. */
  function debounce(fn, ms) {
    let timer = null;
    return function (...args) {
      clearTimeout(timer);
      timer = setTimeout(() => fn.apply(this, args), ms);
    };
  }

  /** Upload a photo or document; its attachment id, or throws the error text. */
  async function attach(file) {
    const form = new FormData();
    form.append('file', file, file.name);
    const res = await api('POST', '/v1/attachments', {form});
    if (!res.ok) throw new Error(errorText(res));
    return res.data.id;
  }

  window.WB = {config, t, api, errorText, el, clear, say, number, percent, label, today, debounce, attach, cookie};

  document.addEventListener('DOMContentLoaded', () => {
    const out = document.getElementById('wb-signout');
    if (out) {
      out.addEventListener('click', async () => {
        await api('DELETE', '/v1/session', {noRedirect: true});
        location.href = '/workbench/login';
      });
    }
  });
})();
