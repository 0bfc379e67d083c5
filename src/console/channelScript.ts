/**
 * The channel side of the page script: polls /console/state and renders the channel and the open thread
 * the way Slack would (Block Kit sections, context, buttons, inputs), sends what is typed and clicked to
 * /console/command and /console/click, which sign it and post it to the bot. A fragment of the script
 * page.ts assembles: it uses el, escapeHtml, post, emoji and setView from there, and sets openThread.
 * Written without template literals so it can live in this TypeScript string.
 */
export const channelScript = String.raw`
  var state = { users: [], messages: [], ephemerals: [] };
  var lastJson = '';
  // The answers to commands typed here (only the typist sees them), newest last; a few are kept, each
  // with how many of the emulated Slack's ephemerals were there when it arrived.
  var answers = [];
  var keptAnswers = 3;
  // What was typed in a prompt's reason field, by message ts: kept across re-renders.
  var reasons = {};
  var me = function () { return el('user').value; };
  function nameOf(id) {
    for (var i = 0; i < state.users.length; i++) if (state.users[i].id === id) return state.users[i].real_name;
    return id;
  }
  // Slack's code blocks (three backticks) are shown as they are, every space and line kept; the text
  // between them is formatted as mrkdwn.
  function mrkdwn(s) {
    return String(s || '').split('\x60\x60\x60').map(function (part, i) {
      return i % 2 ? '<pre>' + escapeHtml(part.replace(/^\n/, '')) + '</pre>' : inline(part);
    }).join('');
  }
  function inline(s) {
    var html = escapeHtml(s || '');
    html = html.replace(/&lt;!date\^[^|]*\|([^&]*)&gt;/g, '$1')
      .replace(/&lt;@([A-Z0-9]+)&gt;/g, function (_, id) { return '<b>@' + escapeHtml(nameOf(id)) + '</b>'; })
      .replace(/&lt;#([A-Z0-9]+)\|([^&]*)&gt;/g, '<b>#$2</b>')
      .replace(/&lt;#([A-Z0-9]+)&gt;/g, function (_, id) { return '<b>#' + (id === state.channel.id ? state.channel.name : id) + '</b>'; })
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
  function bodyHtml(m) {
    return m.blocks && m.blocks.length ? m.blocks.map(function (b) { return blockHtml(b, m); }).join('') : '<div class="section">' + mrkdwn(m.text) + '</div>';
  }
  function messageHtml(m, options) {
    var replies = '';
    if (options.showReplies) {
      var n = state.messages.filter(function (r) { return r.thread_ts === m.ts; }).length;
      if (n) replies = '<div class="replies" data-open="' + m.ts + '">' + n + (n === 1 ? ' reply' : ' replies') + '</div>';
    }
    var broadcast = options.inChannel && m.thread_ts ? '<div class="broadcast">replied to a thread</div>' : '';
    return '<div class="msg" data-ts="' + m.ts + '"><div class="avatar">m</div><div><div class="who">meshops <small>APP</small>' +
      (m.edits ? ' <span class="edited">(edited)</span>' : '') + '</div>' + broadcast + bodyHtml(m) + replies + '</div></div>';
  }
  function ephemeralHtml(e, dismiss) {
    var button = dismiss === undefined ? '' : '<button class="dismiss" data-dismiss="' + dismiss + '">Dismiss</button>';
    return '<div class="msg ephemeral"><div class="avatar">m</div><div><div class="who">meshops <small>APP</small></div>' +
      '<div class="note">Only visible to you' + button + '</div>' + bodyHtml(e) + '</div></div>';
  }
  /** Re-renders a feed, keeping it at the bottom if it was there (or if asked to go there). */
  function fill(feed, html, toBottom) {
    var atBottom = toBottom || feed.scrollTop + feed.clientHeight >= feed.scrollHeight - 30;
    feed.innerHTML = html;
    if (atBottom) feed.scrollTop = feed.scrollHeight;
  }
  function render(toBottom) {
    var channel = state.messages.filter(function (m) { return !m.thread_ts || m.reply_broadcast; });
    var items = channel.map(function (m) { return messageHtml(m, { showReplies: !m.thread_ts, inChannel: true }); });
    // Ephemerals in the order they came: an answer goes after those that were there when it arrived.
    var ephemerals = state.ephemerals.filter(function (e) { return !e.thread_ts; });
    for (var i = 0; i <= ephemerals.length; i++) {
      answers.forEach(function (a, n) {
        if (Math.min(a.after, ephemerals.length) === i) items.push(ephemeralHtml(a.message, n));
      });
      if (i < ephemerals.length) items.push(ephemeralHtml(ephemerals[i]));
    }
    fill(el('channel'), items.join('') || '<p style="padding:18px;color:#616061">No messages yet. Try <code>/mesh help</code>.</p>', toBottom);
    el('tab-thread').classList.toggle('hidden', !openThread);
    if (openThread) {
      var root = state.messages.filter(function (m) { return m.ts === openThread; })[0];
      var replies = state.messages.filter(function (m) { return m.thread_ts === openThread; });
      var ephemerals = state.ephemerals.filter(function (e) { return e.thread_ts === openThread; });
      fill(el('thread-feed'), (root ? messageHtml(root, {}) : '') + replies.map(function (m) { return messageHtml(m, {}); }).join('') +
        ephemerals.map(function (e) { return ephemeralHtml(e); }).join(''), toBottom);
    }
  }
  function refresh(toBottom) {
    return fetch('/console/state?user=' + encodeURIComponent(me())).then(function (r) { return r.json(); }).then(function (next) {
      var json = JSON.stringify(next);
      if (json === lastJson && !toBottom) return;
      lastJson = json;
      state = next;
      // Not while someone types a reason: the field would be rebuilt under their fingers.
      var typing = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.inputTs;
      if (typing) lastJson = null;
      else render(toBottom);
    });
  }
  document.addEventListener('input', function (event) {
    var ts = event.target.dataset && event.target.dataset.inputTs;
    if (ts) reasons[ts] = event.target.value;
  });
  document.addEventListener('click', function (event) {
    var data = event.target.dataset || {};
    if (data.open) { openThread = data.open; setView('thread'); lastJson = ''; refresh(true); return; }
    if (data.dismiss !== undefined) { answers.splice(Number(data.dismiss), 1); render(); return; }
    if (data.action) {
      post('/console/click', { user: me(), actionId: data.action, value: data.value, blockId: data.block, messageTs: data.ts, threadTs: data.thread, reason: reasons[data.ts] || '' })
        .then(function () { setTimeout(refresh, 150); });
    }
  });
  el('close-thread').addEventListener('click', function (event) {
    event.stopPropagation();
    openThread = null;
    setView(view === 'thread' ? 'channel' : view);
    render();
  });
  el('composer').addEventListener('submit', function (event) {
    event.preventDefault();
    var text = el('command').value.trim();
    if (!text) return;
    post('/console/command', { user: me(), text: text }).then(function (result) {
      // As Slack: the bot's answer to the command, if it gave one; an empty acknowledgement shows nothing.
      var answer = result.error ? { text: ':warning: ' + result.error }
        : result.status !== 200 ? { text: ':warning: the bot answered HTTP ' + result.status }
        : result.answer && (result.answer.text || result.answer.blocks) ? result.answer : null;
      var after = state.ephemerals.filter(function (e) { return !e.thread_ts; }).length;
      if (answer) answers = answers.concat([{ message: answer, after: after }]).slice(-keptAnswers);
      if (!result.error) el('command').value = '';
      setView('channel');
      refresh(true);
    });
  });
  el('user').addEventListener('change', function () { lastJson = ''; answers = []; refresh(); });
  function startChannel() {
    return fetch('/console/state').then(function (r) { return r.json(); }).then(function (first) {
      el('user').innerHTML = first.users.map(function (u) {
        return '<option value="' + u.id + '"' + (u.id === 'U0BOB' ? ' selected' : '') + '>' + escapeHtml(u.real_name) + (u.approver ? ' (approver)' : '') + '</option>';
      }).join('');
      refresh(true);
      setInterval(refresh, 800);
    });
  }
`;
