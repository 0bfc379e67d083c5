/**
 * The fleet side of the page script: polls /console/fleet (the emulator's GET /_sim/state, relayed) and
 * shows each cluster: membership, control and data plane, namespaces with their injection labels, pods
 * with or without istio-proxy and its version. Its controls post to the emulator's control endpoint
 * through /console/fleet/*: the speed, a change Google makes to a cluster's mesh, an API that fails.
 * A fragment of the script page.ts assembles (el, escapeHtml, post from there). No template literals.
 */
export const fleetScript = String.raw`
  var fleet = null;
  var fleetJson = '';
  var offersJson = '';
  var speeds = [1, 5, 20, 50, 100, 500];
  function stateClass(s) {
    if (s === 'ACTIVE' || s === 'READY') return 'ok';
    if (s === 'PROVISIONING' || s === 'FAILED_PRECONDITION' || s === 'CREATING' || s === 'DELETING') return 'busy';
    if (s === 'DISABLED' || !s) return 'off';
    return 'bad';
  }
  function stateHtml(s) { return '<span class="state ' + stateClass(s) + '">' + escapeHtml(s || '—') + '</span>'; }
  function podHtml(p) {
    var classes = 'pod' + (p.proxy ? ' proxied' : '') + (p.ready ? '' : ' pending');
    var title = p.phase + (p.ready ? ', ready' : ', not ready') + (p.proxy ? ', istio-proxy ' + p.proxy : ', no istio-proxy');
    return '<span class="' + classes + '" data-pod="' + escapeHtml(p.name) + '" data-proxy="' + escapeHtml(p.proxy || '') + '" title="' + escapeHtml(title) + '">' +
      (p.proxy ? emoji.syringe + ' ' : '') + escapeHtml(p.name) + ' <small>' + (p.proxy ? escapeHtml(p.proxy) : 'no proxy') + (p.ready ? '' : ', starting') + '</small></span>';
  }
  function namespaceHtml(ns) {
    var labels = Object.keys(ns.injection).map(function (k) { return '<code>' + escapeHtml(k + '=' + ns.injection[k]) + '</code>'; }).join(' ');
    var injected = ns.injection['istio-injection'] === 'enabled' || ns.injection['istio.io/rev'] !== undefined;
    return '<div class="ns" data-ns="' + escapeHtml(ns.name) + '" data-injected="' + injected + '"><div class="ns-head"><b>' + escapeHtml(ns.name) + '</b>' +
      (labels || '<span class="muted">no injection label</span>') + '</div>' +
      (ns.pods.length ? '<div class="pods">' + ns.pods.map(podHtml).join('') + '</div>' : '') + '</div>';
  }
  function meshHtml(mesh) {
    if (!mesh) return '';
    var rollout = mesh.rollout;
    var proxies = rollout ? ' · proxies → <code>' + escapeHtml(rollout.target) + '</code> ' + rollout.done + '/' + rollout.total +
      (rollout.failed ? ', ' + rollout.failed + ' failed' : '') : '';
    var conditions = mesh.conditions.length ? '<div class="kv"><span>Conditions</span><span>' + emoji.warning + ' ' + mesh.conditions.map(escapeHtml).join(', ') + '</span></div>' : '';
    return '<div class="kv"><span>Management</span><span>' + escapeHtml(mesh.management || 'not set') + '</span></div>' +
      '<div class="kv"><span>Control plane</span><span>' + stateHtml(mesh.controlPlane) + ' ' + escapeHtml(mesh.implementation || '') + ' · <code>' + escapeHtml(mesh.revision) + '</code></span></div>' +
      '<div class="kv"><span>Data plane</span><span>' + stateHtml(mesh.dataPlane) + proxies + '</span></div>' + conditions;
  }
  function clusterHtml(c) {
    var membership = c.membership
      ? stateHtml(c.membership.state) + ' <span class="muted">' + escapeHtml(c.membership.name.split('/').slice(-1)[0]) + ' in ' + escapeHtml(c.membership.name.split('/')[3]) + '</span>'
      : '<span class="state off">not registered</span>';
    // Namespaces with neither pods nor an injection label take one line between them.
    var busy = c.namespaces.filter(function (ns) { return ns.pods.length || Object.keys(ns.injection).length; });
    var quiet = c.namespaces.filter(function (ns) { return busy.indexOf(ns) < 0; });
    return '<div class="cluster" data-cluster="' + escapeHtml(c.ref) + '"><div class="cluster-head"><b>' + escapeHtml(c.ref) + '</b>' +
      '<span class="pill">' + escapeHtml(c.status) + '</span><span class="pill">channel ' + escapeHtml(c.releaseChannel) + '</span></div>' +
      '<div class="kv"><span>Fleet</span><span class="membership">' + membership + '</span></div>' + meshHtml(c.mesh) +
      busy.map(namespaceHtml).join('') +
      (quiet.length ? '<div class="ns muted">' + quiet.map(function (ns) { return escapeHtml(ns.name); }).join(', ') + ': no pods, no injection label</div>' : '') + '</div>';
  }
  function faultsHtml(faults) {
    if (!faults.active.length) return faults.fired ? '<span class="muted">' + faults.fired + ' injected failure(s) so far; every API answers normally now.</span>' : '';
    return faults.active.map(function (f) {
      var how = f.remaining !== null ? 'the next ' + f.remaining + ' call(s)' : f.rate === 1 ? 'every call' : Math.round(f.rate * 100) + '% of calls';
      return '<div class="fault">' + emoji.rotating_light + ' <b>' + escapeHtml(f.api) + '</b> answers ' + f.status + ' to ' + how + (f.method ? ' (' + escapeHtml(f.method) + ')' : '') + '</div>';
    }).join('') + '<span class="muted">' + faults.fired + ' injected failure(s) so far</span>';
  }
  /** The changes Google could make to the chosen cluster, kept as chosen while they stay the same. */
  function renderOffers() {
    var ref = el('mesh-cluster').value;
    var cluster = fleet.clusters.filter(function (c) { return c.ref === ref; })[0];
    var offers = cluster ? cluster.changes : [];
    var json = ref + JSON.stringify(offers);
    if (json === offersJson) return;
    offersJson = json;
    var chosen = el('mesh-change').value;
    el('mesh-change').innerHTML = offers.map(function (o) {
      var value = o.change + (o.channel ? ':' + o.channel : '');
      return '<option value="' + value + '"' + (value === chosen ? ' selected' : '') + '>' + escapeHtml(o.label) + '</option>';
    }).join('');
  }
  function renderControls() {
    var refs = fleet.clusters.map(function (c) { return c.ref; });
    var select = el('mesh-cluster');
    var known = Array.prototype.map.call(select.options, function (o) { return o.value; });
    if (known.join() !== refs.join()) {
      var chosen = select.value;
      select.innerHTML = refs.map(function (r) { return '<option' + (r === chosen ? ' selected' : '') + '>' + escapeHtml(r) + '</option>'; }).join('');
    }
    renderOffers();
    var speed = el('sim-speed');
    if (document.activeElement !== speed) {
      var options = speeds.indexOf(fleet.speed) < 0 ? speeds.concat([fleet.speed]).sort(function (a, b) { return a - b; }) : speeds;
      speed.innerHTML = options.map(function (s) { return '<option value="' + s + '"' + (s === fleet.speed ? ' selected' : '') + '>×' + s + '</option>'; }).join('');
    }
    el('sim-time').textContent = new Date(fleet.now).toISOString().slice(11, 19) + ' UTC';
  }
  function refreshFleet() {
    return fetch('/console/fleet').then(function (r) { return r.json(); }).then(function (next) {
      if (next.error) { el('fleet-done').textContent = next.error; return; }
      fleet = next;
      renderControls();
      // Only the simulated time moves on every read: the rest is rebuilt when it changed.
      var json = JSON.stringify({ clusters: next.clusters, faults: next.faults });
      if (json === fleetJson) return;
      fleetJson = json;
      el('fleet-clusters').innerHTML = next.clusters.map(clusterHtml).join('');
      el('fault-list').innerHTML = faultsHtml(next.faults);
    });
  }
  function control(path, body, method) {
    var request = method === 'DELETE' ? fetch(path, { method: 'DELETE' }).then(function (r) { return r.json(); }) : post(path, body);
    return request.then(function (result) {
      el('fleet-done').textContent = result.done || result.error || (result.speed ? 'The emulator runs at ×' + result.speed + '.' : '');
      return refreshFleet();
    });
  }
  el('sim-speed').addEventListener('change', function () { control('/console/fleet/speed', { speed: Number(el('sim-speed').value) }); });
  el('mesh-cluster').addEventListener('change', renderOffers);
  el('mesh-apply').addEventListener('click', function () {
    var parts = el('mesh-change').value.split(':');
    control('/console/fleet/mesh', { cluster: el('mesh-cluster').value, change: parts[0], channel: parts[1] });
  });
  el('fault-add').addEventListener('click', function () {
    var status = Number(el('fault-status').value);
    var times = el('fault-times').value;
    var rule = { api: el('fault-api').value, status: status };
    if (times === 'every') rule.rate = 1; else rule.times = Number(times);
    if (status === 429) rule.retryAfterSeconds = 1;
    control('/console/fleet/faults', rule);
  });
  el('fault-clear').addEventListener('click', function () { control('/console/fleet/faults', null, 'DELETE'); });
  function startFleet() {
    refreshFleet();
    setInterval(refreshFleet, 1000);
  }
`;
