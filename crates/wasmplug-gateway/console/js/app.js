// The console's entry point: sign-in, the page router (#/plugins, #/plugin/NAME,
// #/events), the live stream, and the confirmation dialog shared by every action.

import { get, request, session, stream, whenUnauthorized } from './api.js';
import { setText } from './dom.js';
import { eventsPage } from './events.js';
import { pluginPage } from './plugin.js';
import { pluginsPage } from './plugins.js';

const $ = (id) => document.getElementById(id);

const ctx = {
  /** The latest `tick` of the live stream (every version's live figures). */
  tick: null,
  get,
  request,
  confirm,
};

let page = null;
let live = null;

/** Asks for confirmation in the page's dialog; resolves to true or false. */
function confirm(text) {
  const dialog = $('confirm');
  setText($('confirm-text'), text);
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

function showLogin(message = '') {
  stopLive();
  if (page) page.unmount?.();
  page = null;
  $('app').hidden = true;
  $('nav').hidden = true;
  $('logout').hidden = true;
  $('live').hidden = true;
  $('login').hidden = false;
  setText($('login-error'), message);
  $('token').focus();
}

function showApp() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('nav').hidden = false;
  $('logout').hidden = false;
  $('live').hidden = false;
  startLive();
  route();
}

function route() {
  if (!session.token) return;
  const hash = location.hash || '#/plugins';
  if (page) page.unmount?.();
  const root = $('app');
  root.replaceChildren();
  const plugin = hash.match(/^#\/plugin\/(.+)$/);
  if (plugin) page = pluginPage(root, ctx, decodeURIComponent(plugin[1]));
  else if (hash.startsWith('#/events')) page = eventsPage(root, ctx);
  else page = pluginsPage(root, ctx);
  for (const [id, prefix] of [['nav-plugins', '#/plugin'], ['nav-events', '#/events']]) {
    $(id).classList.toggle('active', hash.startsWith(prefix));
  }
}

function setLive(state) {
  setText($('live'), state);
  $('live').dataset.state = state;
}

function startLive() {
  stopLive();
  const controller = new AbortController();
  live = controller;
  (async () => {
    let delay = 500;
    while (!controller.signal.aborted) {
      try {
        setLive('connecting');
        await stream((kind, data) => {
          setLive('live');
          delay = 500;
          if (kind === 'tick') {
            ctx.tick = data;
            page?.onTick?.(data);
          } else if (kind === 'registry') {
            page?.onEvent?.(data);
          } else if (kind === 'lagged') {
            page?.refresh?.();
          }
        }, controller.signal);
      } catch (e) {
        if (controller.signal.aborted) return;
      }
      if (controller.signal.aborted) return;
      setLive('reconnecting');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  })();
}

function stopLive() {
  if (live) live.abort();
  live = null;
}

async function signIn(event) {
  event.preventDefault();
  const token = $('token').value.trim();
  if (!token) return;
  setText($('login-error'), '');
  $('login-submit').disabled = true;
  try {
    const answer = await request('GET', '/console/api/overview', undefined, token);
    if (answer.ok) {
      session.set(token);
      $('token').value = '';
      showApp();
    } else if (answer.status === 401 || answer.status === 403) {
      showLogin('Wrong token: the gateway refused it (HTTP 403). Check the value and try again.');
    } else {
      showLogin(`The gateway answered HTTP ${answer.status}: ${answer.json?.error?.message ?? ''}`);
    }
  } catch (e) {
    showLogin(`Cannot reach the gateway: ${e.message}`);
  } finally {
    $('login-submit').disabled = false;
  }
}

whenUnauthorized((message) => {
  session.clear();
  showLogin(`Signed out: the gateway no longer accepts the token (${message}).`);
});

$('login-form').addEventListener('submit', signIn);
$('logout').addEventListener('click', () => { session.clear(); showLogin(); });
window.addEventListener('hashchange', route);

if (session.token) showApp();
else showLogin();
