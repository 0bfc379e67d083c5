/**
 * The console page: one file, no build step, no dependencies. It polls /console/state and renders
 * the channel the way Slack would (Block Kit sections, context, buttons; a thread pane).
 * Written without template literals so it can live in this TypeScript string.
 */
export const consolePage = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>#platform · meshops local console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --line: #e2e2e2; --muted: #616061; --link: #1264a3; --green: #007a5a; --red: #e01e5a; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.46 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1d1c1d; display: grid; grid-template-columns: 220px 1fr 420px; height: 100vh; }
  nav { background: #3f0e40; color: #cfc3cf; padding: 14px; }
  nav h1 { color: #fff; font-size: 18px; margin: 0 0 14px; }
  nav .channel { background: #1164a3; color: #fff; border-radius: 6px; padding: 4px 10px; }
  nav label { display: block; margin-top: 22px; font-size: 13px; }
  nav select { width: 100%; margin-top: 6px; padding: 4px; }
  nav p { font-size: 12px; line-height: 1.4; }
  #world-actions button { display: block; width: 100%; margin-top: 6px; padding: 4px; font-size: 12px; text-align: left; cursor: pointer; }
  main, aside { display: flex; flex-direction: column; min-height: 0; }
  aside { border-left: 1px solid var(--line); }
  aside.closed { display: none; }
  body.no-thread { grid-template-columns: 220px 1fr; }
  header { border-bottom: 1px solid var(--line); padding: 12px 18px; font-weight: 700; display: flex; justify-content: space-between; }
  header button { border: 0; background: none; font-size: 18px; cursor: pointer; }
  .feed { flex: 1; overflow-y: auto; padding: 8px 0; }
  .msg { display: grid; grid-template-columns: 40px 1fr; gap: 8px; padding: 8px 18px; }
  .msg:hover { background: #f8f8f8; }
  .avatar { width: 36px; height: 36px; border-radius: 6px; background: #2eb67d; color: #fff; display: grid; place-items: center; font-weight: 700; }
  .avatar.human { background: #e8912d; }
  .who { font-weight: 700; } .who small { font-weight: 400; color: var(--muted); margin-left: 6px; }
  .edited { color: var(--muted); font-size: 12px; }
  .ephemeral { background: #f4ede4; }
  .ephemeral .note { color: var(--muted); font-size: 12px; }
  .section { margin: 2px 0; white-space: normal; }
  .context { color: var(--muted); font-size: 13px; margin: 4px 0; }
  .actions { margin: 8px 0 4px; display: flex; gap: 8px; }
  .input input { width: 100%; max-width: 420px; box-sizing: border-box; padding: 4px 6px; border: 1px solid #bbb; border-radius: 4px; margin-top: 6px; }
  .actions button { border: 1px solid #bbb; background: #fff; border-radius: 4px; padding: 4px 14px; font-weight: 700; cursor: pointer; }
  .actions button.primary { background: var(--green); border-color: var(--green); color: #fff; }
  .actions button.danger { background: #fff; border-color: var(--red); color: var(--red); }
  .replies { color: var(--link); font-size: 13px; font-weight: 700; cursor: pointer; margin-top: 4px; }
  .broadcast { color: var(--muted); font-size: 12px; }
  code { background: #f6f6f6; border: 1px solid #ddd; border-radius: 3px; padding: 0 3px; color: #c01343; font-size: 12px; }
  a { color: var(--link); }
  form { border: 1px solid #bbb; border-radius: 8px; margin: 12px 18px 18px; display: flex; }
  form input { flex: 1; border: 0; padding: 12px; font-size: 15px; border-radius: 8px; outline: none; }
  form button { border: 0; background: var(--green); color: #fff; padding: 0 16px; border-radius: 0 8px 8px 0; cursor: pointer; }
  .hint { color: var(--muted); font-size: 12px; margin: -10px 18px 10px; min-height: 16px; }
</style>
</head>
<body class="no-thread">
<nav>
  <h1>meshops</h1>
  <div class="channel"># platform</div>
  <label>You are
    <select id="user"></select>
  </label>
  <p>Local mode: Google, your clusters and Slack are the built-in emulator. Type a <b>/mesh</b> command; approvers (marked in the list) click the buttons, but never on a run they asked for themselves: ask as one, approve as another. <b>/mesh cancel RUN_ID</b> stops a run.</p>
  <label>Google, on its own schedule
    <select id="world-cluster"></select>
  </label>
  <div id="world-actions"></div>
  <p id="world-done"></p>
</nav>
<main>
  <header><span># platform</span></header>
  <div class="feed" id="channel"></div>
  <form id="composer"><input id="command" autocomplete="off" placeholder="/mesh enable cluster proj-a/us-central1/c1 namespaces=default,shop"><button>Send</button></form>
  <div class="hint" id="hint"></div>
</main>
<aside id="thread" class="closed">
  <header><span>Thread</span><button id="close" title="Close">×</button></header>
  <div class="feed" id="thread-feed"></div>
</aside>
<script>
(function () {
  var state = { users: [], messages: [], ephemerals: [] };
  var openThread = null;
  var lastJson = '';
  var emoji = { white_check_mark: '✅', x: '❌', hourglass_flowing_sand: '⏳', white_circle: '⚪', heavy_minus_sign: '➖',
    raised_hand: '✋', tada: '🎉', no_entry: '⛔', alarm_clock: '⏰', mag: '🔍', link: '🔗', label: '🏷️', gear: '⚙️',
    satellite: '📡', clipboard: '📋', syringe: '💉', arrows_counterclockwise: '🔄', electric_plug: '🔌', inbox_tray: '📥',
    arrow_forward: '▶️', octagonal_sign: '🛑', warning: '⚠️', eyes: '👀', ocean: '🌊', building_construction: '🏗️',
    rotating_light: '🚨', green_heart: '💚', satellite_antenna: '📡', twisted_rightwards_arrows: '🔀', no_bell: '🔕',
    information_source: 'ℹ️', grey_question: '❔', scissors: '✂️', rocket: '🚀', wastebasket: '🗑️',
    test_tube: '🧪', memo: '📝', hourglass: '⌛', construction: '🚧' };
  var el = function (id) { return document.getElementById(id); };
  var me = function () { return el('user').value; };
  function nameOf(id) {
    for (var i = 0; i < state.users.length; i++) if (state.users[i].id === id) return state.users[i].real_name;
    return id;
  }
  function escapeHtml(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'); }
  function mrkdwn(s) {
    var html = escapeHtml(s || '');
    html = html.replace(/&lt;!date\^[^|]*\|([^&]*)&gt;/g, '$1')
      .replace(/&lt;@([A-Z0-9]+)&gt;/g, function (_, id) { return '<b>@' + escapeHtml(nameOf(id)) + '</b>'; })
      .replace(/&lt;#([A-Z0-9]+)\|([^&]*)&gt;/g, '<b>#$2</b>')
      .replace(/&lt;#([A-Z0-9]+)&gt;/g, function (_, id) { return '<b>#' + (id === 'C0PLATFORM' ? 'platform' : id) + '</b>'; })
      .replace(/&lt;(https?:[^|&]*)\|([^&]*)&gt;/g, '<a href="$1" target="_blank">$2</a>')
      .replace(/\x60([^\x60]+)\x60/g, '<code>$1</code>')
      .replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1<b>$2</b>')
      .replace(/(^|\s)_([^_\n]+)_/g, '$1<i>$2</i>')
      .replace(/:([a-z_]+):/g, function (m, n) { return emoji[n] || m; })
      .replace(/\n/g, '<br>');
    return html;
  }
  function blockHtml(block, message) {
    if (block.type === 'section') {
      var fields = (block.fields || []).map(function (f) { return '<div>' + mrkdwn(f.text) + '</div>'; }).join('');
      return '<div class="section">' + mrkdwn(block.text && block.text.text) + fields + '</div>';
    }
    if (block.type === 'context') {
      return '<div class="context">' + (block.elements || []).map(function (e) { return mrkdwn(e.text); }).join(' ') + '</div>';
    }
    if (block.type === 'actions') {
      return '<div class="actions">' + (block.elements || []).map(function (b) {
        return '<button class="' + (b.style || '') + '" data-action="' + escapeHtml(b.action_id) + '" data-value="' +
          escapeHtml(b.value || '') + '" data-block="' + escapeHtml(block.block_id || '') + '" data-ts="' + message.ts + '" data-thread="' + (message.thread_ts || '') + '">' +
          escapeHtml(b.text && b.text.text) + '</button>';
      }).join('') + '</div>';
    }
    if (block.type === 'input' && block.element && block.element.type === 'plain_text_input') {
      return '<div class="input"><input type="text" data-input-ts="' + message.ts + '" placeholder="' +
        escapeHtml(block.label && block.label.text) + '" value="' + escapeHtml(reasons[message.ts] || '') + '"></div>';
    }
    if (block.type === 'header') return '<div class="section"><b>' + escapeHtml(block.text && block.text.text) + '</b></div>';
    if (block.type === 'divider') return '<hr>';
    return '';
  }
  function messageHtml(m, options) {
    var body = m.blocks && m.blocks.length ? m.blocks.map(function (b) { return blockHtml(b, m); }).join('') : '<div class="section">' + mrkdwn(m.text) + '</div>';
    var replies = '';
    if (options.showReplies) {
      var n = state.messages.filter(function (r) { return r.thread_ts === m.ts; }).length;
      if (n) replies = '<div class="replies" data-open="' + m.ts + '">' + n + (n === 1 ? ' reply' : ' replies') + '</div>';
    }
    var broadcast = options.inChannel && m.thread_ts ? '<div class="broadcast">replied to a thread</div>' : '';
    return '<div class="msg" data-ts="' + m.ts + '"><div class="avatar">m</div><div><div class="who">meshops <small>APP</small>' +
      (m.edits ? ' <span class="edited">(edited)</span>' : '') + '</div>' + broadcast + body + replies + '</div></div>';
  }
  function ephemeralHtml(e) {
    var body = e.blocks && e.blocks.length ? e.blocks.map(function (b) { return blockHtml(b, e); }).join('') : '<div class="section">' + mrkdwn(e.text) + '</div>';
    return '<div class="msg ephemeral"><div class="avatar">m</div><div><div class="who">meshops <small>APP</small></div>' +
      '<div class="note">Only visible to you</div>' + body + '</div></div>';
  }
  // What was typed in a prompt's reason field, by message ts: kept across re-renders.
  var reasons = {};
  document.addEventListener('input', function (event) {
    var ts = event.target.dataset && event.target.dataset.inputTs;
    if (ts) reasons[ts] = event.target.value;
  });
  function render() {
    var channel = state.messages.filter(function (m) { return !m.thread_ts || m.reply_broadcast; });
    var items = channel.map(function (m) { return messageHtml(m, { showReplies: !m.thread_ts, inChannel: true }); });
    items = items.concat(state.ephemerals.filter(function (e) { return !e.thread_ts; }).map(ephemeralHtml));
    var feed = el('channel');
    var atBottom = feed.scrollTop + feed.clientHeight >= feed.scrollHeight - 30;
    feed.innerHTML = items.join('') || '<p style="padding:18px;color:#616061">No messages yet. Try <code>/mesh help</code>.</p>';
    if (atBottom) feed.scrollTop = feed.scrollHeight;
    document.body.classList.toggle('no-thread', !openThread);
    el('thread').classList.toggle('closed', !openThread);
    if (openThread) {
      var root = state.messages.filter(function (m) { return m.ts === openThread; })[0];
      var replies = state.messages.filter(function (m) { return m.thread_ts === openThread; });
      var ephemerals = state.ephemerals.filter(function (e) { return e.thread_ts === openThread; });
      el('thread-feed').innerHTML = (root ? messageHtml(root, {}) : '') + replies.map(function (m) { return messageHtml(m, {}); }).join('') +
        ephemerals.map(ephemeralHtml).join('');
    }
  }
  function refresh() {
    return fetch('/console/state?user=' + encodeURIComponent(me())).then(function (r) { return r.json(); }).then(function (next) {
      var json = JSON.stringify(next);
      if (json === lastJson) return;
      lastJson = json;
      state = next;
      // Not while someone types a reason: the field would be rebuilt under their fingers.
      var typing = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.inputTs;
      if (typing) lastJson = null;
      else render();
    });
  }
  function post(path, body) {
    return fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); });
  }
  document.addEventListener('click', function (event) {
    var target = event.target;
    if (target.dataset && target.dataset.open) { openThread = target.dataset.open; lastJson = ''; refresh(); return; }
    if (target.dataset && target.dataset.world) {
      post('/console/world', { action: target.dataset.world, cluster: el('world-cluster').value }).then(function (result) {
        el('world-done').textContent = result.done || result.error || '';
      });
      return;
    }
    if (target.dataset && target.dataset.action) {
      post('/console/click', { user: me(), actionId: target.dataset.action, value: target.dataset.value, blockId: target.dataset.block, messageTs: target.dataset.ts, threadTs: target.dataset.thread, reason: reasons[target.dataset.ts] || '' })
        .then(function () { setTimeout(refresh, 150); });
    }
  });
  el('close').addEventListener('click', function () { openThread = null; render(); });
  el('composer').addEventListener('submit', function (event) {
    event.preventDefault();
    var text = el('command').value.trim();
    if (!text) return;
    post('/console/command', { user: me(), text: text }).then(function (result) {
      if (result.error) { el('hint').textContent = result.error; return; }
      el('hint').innerHTML = result.answer && result.answer.text ? mrkdwn(result.answer.text) : 'HTTP ' + result.status;
      el('command').value = '';
      refresh();
    });
  });
  el('user').addEventListener('change', function () { lastJson = ''; refresh(); });
  fetch('/console/state').then(function (r) { return r.json(); }).then(function (first) {
    el('user').innerHTML = first.users.map(function (u) {
      return '<option value="' + u.id + '"' + (u.id === 'U0BOB' ? ' selected' : '') + '>' + escapeHtml(u.real_name) + (u.approver ? ' (approver)' : '') + '</option>';
    }).join('');
    el('world-cluster').innerHTML = first.clusters.map(function (c) { return '<option>' + escapeHtml(c) + '</option>'; }).join('');
    el('world-actions').innerHTML = first.actions.map(function (a) {
      return '<button data-world="' + a.id + '">' + escapeHtml(a.label) + '</button>';
    }).join('');
    refresh();
    setInterval(refresh, 800);
  });
})();
</script>
</body>
</html>
`;
