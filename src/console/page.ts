/**
 * The console page: one HTML document, no build step, no dependencies. The channel and its threads come
 * from /console/state (channelScript.ts), the emulated fleet from /console/fleet (fleetScript.ts); the
 * CSS is pageStyle.ts. The script pieces share one function scope, opened here with the helpers they use.
 */
import { channelScript } from './channelScript.js';
import { emoji } from './emoji.js';
import { fleetScript } from './fleetScript.js';
import { pageStyle } from './pageStyle.js';

const markup = String.raw`
<nav>
  <h1>meshops</h1>
  <div class="channel"># platform</div>
  <label>You are
    <select id="user"></select>
  </label>
  <p>Local mode: Google, your clusters and Slack are the built-in emulator. Type a <b>/mesh</b> command; approvers (marked in the list) click the buttons, but never on a run they asked for themselves: ask as one, approve as another. <b>/mesh cancel RUN_ID</b> stops a run.</p>
  <p>The <b>Fleet</b> panel is the emulator's own view of the world, and its controls play Google: upgrade a cluster's mesh, make an API fail, change the emulator's speed.</p>
</nav>
<main>
  <header># platform</header>
  <div class="feed" id="channel"></div>
  <form id="composer"><input id="command" autocomplete="off" placeholder="/mesh enable cluster proj-a/us-central1/c1 namespaces=default,shop"><button>Send</button></form>
</main>
<aside>
  <div class="tabs" role="tablist">
    <button class="phone-only" data-view="channel"># platform</button>
    <button data-view="fleet">Fleet</button>
    <button data-view="thread" id="tab-thread" class="hidden">Thread<span class="close" id="close-thread" title="Close the thread">×</span></button>
  </div>
  <section class="pane" id="thread-pane"><div class="feed" id="thread-feed"></div></section>
  <section class="pane" id="fleet-pane">
    <div class="controls">
      <div class="row"><h3>Emulator</h3> speed <select id="sim-speed" title="simulated ms per real ms"></select> <span class="muted">sim time <span id="sim-time"></span></span></div>
      <h3>Google, on its own schedule</h3>
      <div class="row"><select id="mesh-cluster"></select><button id="mesh-apply">Make it happen</button><select id="mesh-change" class="wide"></select></div>
      <h3>Make an API fail</h3>
      <div class="row">
        <select id="fault-api"><option value="gkehub">GKE Hub (fleet)</option><option value="container">Container (GKE)</option><option value="kubernetes">Kubernetes API</option><option value="serviceusage">Service Usage</option><option value="resourcemanager">Resource Manager</option></select>
        <span class="pair">answers <select id="fault-status"><option value="503">503 unavailable</option><option value="429">429 rate limited</option><option value="500">500 internal</option><option value="403">403 denied</option></select></span>
        <span class="pair">to <select id="fault-times"><option value="1">the next call</option><option value="3">the next 3 calls</option><option value="10">the next 10 calls</option><option value="every">every call</option></select></span>
        <button id="fault-add">Fail</button><button id="fault-clear">Clear</button>
      </div>
      <div id="fault-list"></div>
      <div id="fleet-done"></div>
    </div>
    <div id="fleet-clusters"></div>
  </section>
</aside>`;

/** The helpers every script piece uses, and the views: which pane shows (phones) and which side tab (wide). */
const prelude = String.raw`
  var emoji = EMOJI;
  var el = function (id) { return document.getElementById(id); };
  function escapeHtml(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'); }
  function post(path, body) {
    return fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); });
  }
  var openThread = null;
  // view: what a phone shows (channel, thread or fleet); side: the side panel's tab on a wide screen.
  var view = 'channel';
  var side = 'fleet';
  function setView(next) {
    view = next === 'thread' && !openThread ? 'channel' : next;
    if (view !== 'channel') side = view;
    if (side === 'thread' && !openThread) side = 'fleet';
    document.body.className = 'view-' + view + ' side-' + side;
    Array.prototype.forEach.call(document.querySelectorAll('.tabs button'), function (b) {
      b.classList.toggle('on-view', b.dataset.view === view);
      b.classList.toggle('on-side', b.dataset.view === side);
    });
  }
  document.addEventListener('click', function (event) {
    var tab = event.target.closest && event.target.closest('.tabs button');
    if (tab && event.target.id !== 'close-thread') setView(tab.dataset.view);
  });
`;

const script = `(function () {\n${prelude.replace('EMOJI', JSON.stringify(emoji))}${channelScript}${fleetScript}
  setView('channel');
  startChannel();
  startFleet();
})();`;

export const consolePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>#platform · meshops local console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>${pageStyle}</style>
</head>
<body class="view-channel side-fleet">${markup}
<script>
${script}
</script>
</body>
</html>
`;
