// Sign in: POST /v1/session sets the session cookie and the CSRF cookie; then back to the page asked for.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('login-form');
  const message = document.getElementById('login-message');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = document.getElementById('login-user').value.trim();
    const password = document.getElementById('login-password').value;
    if (!name || !password) {
      WB.say(message, 'error', WB.t('login.missing'));
      return;
    }
    WB.say(message, 'busy', WB.t('app.working'));
    const res = await WB.api('POST', '/v1/session', {json: {name, password}, noRedirect: true});
    if (res.ok) {
      WB.say(message, 'ok', WB.t('login.welcome', {name: res.data.name}));
      location.href = form.dataset.next || '/workbench/';
    } else if (res.status === 401) {
      WB.say(message, 'error', WB.t('login.failed'), res.status);
    } else if (res.status === 429) {
      WB.say(message, 'error', WB.t('login.paused', {seconds: res.headers.get('Retry-After') || '?'}), res.status);
    } else {
      WB.say(message, 'error', WB.errorText(res), res.status);
    }
  });
});
