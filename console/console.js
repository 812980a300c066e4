// The Kthena router console: polls api/state and renders it. Plain DOM, no framework, no network beyond this router.
// Values reach the page through textContent only, so names from manifests cannot inject markup.

(() => {
  const POLL_MS = 2000;
  const TOKEN_KEY = 'kthena-console-token';
  let previous = null; // last state, for live traffic shares over the last interval
  let timer = null;

  // A token handed over in the address (#token=...) is moved to session storage and out of the address bar.
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('token')) {
    sessionStorage.setItem(TOKEN_KEY, hash.get('token'));
    history.replaceState(null, '', location.pathname);
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'title') e.title = v;
      else e.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const pct = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);
  const ms = (s) => (s ? `${(s * 1000).toFixed(s < 0.01 ? 2 : 0)} ms` : '–');
  const num = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : '–');
  function bar(v, hotAbove) {
    const w = Math.max(0, Math.min(1, v || 0));
    return el(
      'span',
      { class: `bar${hotAbove !== undefined && w > hotAbove ? ' hot' : ''}` },
      el('span', { style: `width:${(w * 100).toFixed(1)}%` }),
    );
  }
  function table(head, rows, numeric) {
    const num = new Set(numeric || []);
    return el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          head.map((h, i) => el('th', { class: num.has(i) ? 'num' : '' }, h)),
        ),
      ),
      el(
        'tbody',
        {},
        rows.map((r) =>
          el(
            'tr',
            {},
            r.map((c, i) => el('td', { class: num.has(i) ? 'num' : '' }, c)),
          ),
        ),
      ),
    );
  }
  const replace = (id, ...nodes) => document.getElementById(id).replaceChildren(...nodes.flat().filter((n) => n));
  const empty = (text) => el('p', { class: 'muted' }, text);

  function targetRequests(state) {
    const m = new Map();
    for (const r of state.routes)
      for (const rule of r.rules) for (const t of rule.targets) m.set(`${r.key}|${rule.name}|${t.name}`, t.requests);
    return m;
  }

  function renderRoutes(state) {
    const before = previous ? targetRequests(previous) : new Map();
    if (state.routes.length === 0) return replace('routes', empty('No ModelRoutes.'));
    replace(
      'routes',
      state.routes.map((r) => {
        const rows = [];
        for (const rule of r.rules) {
          const total = rule.targets.reduce((a, t) => a + t.requests, 0);
          const deltas = rule.targets.map(
            (t) => t.requests - (before.get(`${r.key}|${rule.name}|${t.name}`) ?? t.requests),
          );
          const dTotal = deltas.reduce((a, b) => a + b, 0);
          rule.targets.forEach((t, i) => {
            rows.push([
              rule.name,
              `${t.kind === 'ModelServer' ? '' : 'provider '}${t.name}`,
              num(t.weight),
              el('span', {}, bar(t.configuredShare), pct(t.configuredShare)),
              num(t.requests),
              el('span', {}, bar(total ? t.requests / total : 0), total ? pct(t.requests / total) : '–'),
              dTotal ? pct(deltas[i] / dTotal) : '–',
            ]);
          });
        }
        return el(
          'div',
          { 'data-route': r.key },
          el(
            'h3',
            {},
            r.model || '(no model)',
            ' ',
            el('span', { class: 'muted' }, `ModelRoute ${r.key}`),
            ' ',
            r.loraAdapters.map((l) => el('span', { class: 'tag' }, `lora ${l}`)),
            r.rateLimit ? el('span', { class: 'tag' }, 'rate-limited') : null,
          ),
          table(
            ['rule', 'target', 'weight', 'configured share', 'requests', 'served share', 'last interval'],
            rows,
            [2, 4],
          ),
        );
      }),
    );
  }

  function renderServers(state) {
    if (state.servers.length === 0) return replace('servers', empty('No ModelServers.'));
    replace(
      'servers',
      state.servers.map((s) =>
        el(
          'div',
          { 'data-server': s.key },
          el(
            'h3',
            {},
            s.key,
            ' ',
            el(
              'span',
              { class: 'muted' },
              `${s.engine} · ${s.model || 'model from engine'} · ${s.endpoints.length} endpoint(s)`,
            ),
          ),
          s.endpoints.length === 0
            ? empty('No ready endpoints.')
            : table(
                [
                  'endpoint',
                  'address',
                  'in-flight',
                  'waiting',
                  'running',
                  'KV usage',
                  'prefix hits',
                  'TTFT',
                  'TPOT',
                  'health',
                  'LoRA',
                  'PD',
                  'last scrape',
                ],
                s.endpoints.map((e) => [
                  el('span', { 'data-endpoint': e.key }, e.key),
                  e.address,
                  num(e.inflight),
                  num(e.waiting),
                  num(e.running),
                  el('span', {}, bar(e.kvCacheUsage, 0.85), pct(e.kvCacheUsage)),
                  pct(e.prefixHitRate),
                  ms(e.ttftSeconds),
                  ms(e.tpotSeconds),
                  e.health
                    ? el(
                        'span',
                        { class: e.health.state === 'closed' ? 'ok' : 'bad', title: e.health.reason || '' },
                        `${e.health.state} (${e.health.ejections} ejections)`,
                      )
                    : el('span', { class: 'muted' }, 'n/a'),
                  e.loraAdapters.length ? e.loraAdapters.map((l) => el('span', { class: 'tag' }, l)) : '–',
                  e.pdRole ? `${e.pdRole} · ${e.pdGroup}` : '–',
                  e.lastScrapeError
                    ? el('span', { class: 'bad', title: e.lastScrapeError }, 'error')
                    : e.lastScrapeAt
                      ? new Date(e.lastScrapeAt).toLocaleTimeString()
                      : '–',
                ]),
                [2, 3, 4],
              ),
          s.pdGroups.length
            ? table(
                ['PD group', 'prefill', 'decode'],
                s.pdGroups.map((g) => [g.group, g.prefill.join(', ') || '–', g.decode.join(', ') || '–']),
              )
            : null,
        ),
      ),
    );
  }

  function renderDecisions(state) {
    const s = state.scheduler;
    document.getElementById('scheduler').textContent =
      `filters ${s.filters.join(', ') || 'none'}; scores ${s.scores.map((x) => `${x.name}×${x.weight}`).join(', ')}; top ${s.topN}`;
    if (state.decisions.length === 0)
      return replace('decisions', empty('No decisions yet: send a request through the router.'));
    const scorers = s.scores.map((x) => x.name);
    replace(
      'decisions',
      state.decisions.map((d) =>
        el(
          'div',
          { class: 'decision', 'data-decision': d.model, 'data-chosen': d.chosen || '' },
          el(
            'div',
            {},
            el('strong', {}, d.model),
            ' at ',
            new Date(d.at).toLocaleTimeString(),
            ' → ',
            el('strong', {}, d.chosen || 'none'),
          ),
          table(
            ['rank', 'endpoint', 'filters', 'total', ...scorers],
            d.candidates.map((c) => [
              c.rank ?? '–',
              c.endpoint,
              el('span', { class: c.verdict === 'passed' ? 'ok' : 'bad', 'data-verdict': c.endpoint }, c.verdict),
              num(c.total),
              ...scorers.map((n) => num(c.perPlugin[n])),
            ]),
            [0, 3, ...scorers.map((_, i) => 4 + i)],
          ),
        ),
      ),
    );
  }

  function renderKv(state) {
    const v = Object.entries(state.verification);
    replace(
      'verification',
      v.length
        ? table(
            ['model', 'samples', 'mean |predicted − reported| / prompt', 'bias'],
            v.map(([m, x]) => [
              m,
              num(x.samples),
              pct(x.meanRelError),
              x.meanSigned > 0
                ? `over-predicts ${pct(x.meanSigned)}`
                : x.meanSigned < 0
                  ? `under-predicts ${pct(-x.meanSigned)}`
                  : '–',
            ]),
            [1, 2],
          )
        : empty('No verification samples (needs a precise KV plugin and engines that report cached tokens).'),
    );
    replace(
      'predictions',
      state.predictions.length
        ? state.predictions.slice(0, 5).map((p) =>
            el(
              'div',
              { class: 'decision' },
              el('div', {}, `request ${p.request} · ${p.model} · ${p.promptTokens} prompt tokens`),
              table(
                ['endpoint', 'predicted cached tokens', 'queued prefill', 'decoding', 'predicted TTFT'],
                p.candidates.map((c) => [
                  c.endpoint,
                  num(c.cachedTokens),
                  num(c.queuedPrefillTokens),
                  num(c.decoding),
                  ms(c.ttftSec),
                ]),
                [1, 2, 3, 4],
              ),
            ),
          )
        : empty('No predictions (latency-predictor not configured, or no requests yet).'),
    );
  }

  function renderGovernance(state) {
    const g = state.governance;
    const codes = Object.entries(state.statusCodes).sort();
    replace(
      'governance',
      el('h3', {}, 'Requests by status'),
      codes.length
        ? table(
            ['status', 'requests'],
            codes.map(([c, n]) => [el('span', { class: c.startsWith('2') ? 'ok' : 'bad' }, c), num(n)]),
            [1],
          )
        : empty('No requests yet.'),
      el('h3', {}, 'Rate-limited requests'),
      g.rateLimited.length
        ? table(
            ['model', 'limit', 'rejected'],
            g.rateLimited.map((r) => [r.model, r.limitType, num(r.count)]),
            [2],
          )
        : empty('None.'),
      el('h3', {}, 'Fairness queues'),
      g.fairnessQueues.length
        ? table(
            ['model', 'queued', 'in flight'],
            g.fairnessQueues.map((q) => [q.model, num(q.queued), num(q.inflight)]),
            [1, 2],
          )
        : empty('No fairness queues (ENABLE_FAIRNESS_SCHEDULING off, or idle).'),
      el('p', {}, `Concurrency-cap rejections: ${num(g.concurrencyRejected)}`),
    );
  }

  const condText = (cs) =>
    cs.length
      ? cs.map((c) =>
          el(
            'span',
            { class: c.status === 'True' ? 'ok' : 'bad', title: c.message || '' },
            `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''} `,
          ),
        )
      : el('span', { class: 'muted' }, 'no conditions');

  function renderWorkloads(state) {
    const w = state.workloads;
    document.getElementById('workloads-section').hidden = !w;
    if (!w) return;
    const errs = Object.entries(w.errors).map(([kind, msg]) =>
      el('p', { class: 'bad' }, `${kind}: cannot list (${msg})`),
    );
    replace(
      'workloads',
      errs,
      el('h3', {}, 'ModelServings'),
      w.modelServings.length
        ? table(
            ['ModelServing', 'groups desired', 'available', 'updated', 'roles', 'conditions'],
            w.modelServings.map((m) => [
              m.key,
              num(m.replicas),
              num(m.availableReplicas),
              num(m.updatedReplicas),
              m.roles.map((r) => `${r.name}×${r.replicas}`).join(', ') || '–',
              condText(m.conditions),
            ]),
            [1, 2, 3],
          )
        : empty('None.'),
      el('h3', {}, 'ModelBoosters'),
      w.modelBoosters.length
        ? table(
            ['ModelBooster', 'conditions'],
            w.modelBoosters.map((b) => [b.key, condText(b.conditions)]),
          )
        : empty('None.'),
      el('h3', {}, 'Autoscaling policies'),
      w.autoscalingPolicies.length
        ? table(
            ['policy', 'conditions', 'last decisions'],
            w.autoscalingPolicies.map((p) => [
              p.key,
              condText(p.conditions),
              p.lastDecisions.length ? p.lastDecisions.map((d) => el('div', {}, describeDecision(d))) : '–',
            ]),
          )
        : empty('None.'),
    );
  }

  // The autoscaler's status entry as one line: target, current → desired, and why.
  function describeDecision(d) {
    const parts = [
      d.target,
      `${d.currentReplicas ?? '?'} → ${d.desiredReplicas ?? '?'} (recommended ${d.recommendedReplicas ?? '?'}, ${d.mode || '–'})`,
    ];
    if (d.reason) parts.push(d.reason);
    if (d.time) parts.push(new Date(d.time).toLocaleTimeString());
    return parts.filter((x) => x !== undefined && x !== '').join(' · ');
  }

  function render(state) {
    const r = state.router;
    document.getElementById('status').textContent =
      `${r.ready ? 'ready' : 'not ready'} · up ${r.uptimeSeconds}s · ${r.activeRequests} active · updated ${new Date(state.generatedAt).toLocaleTimeString()}`;
    renderRoutes(state);
    renderServers(state);
    renderDecisions(state);
    renderKv(state);
    renderGovernance(state);
    renderWorkloads(state);
    previous = state;
  }

  async function poll() {
    clearTimeout(timer);
    const token = sessionStorage.getItem(TOKEN_KEY);
    try {
      const res = await fetch('api/state', {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        cache: 'no-store',
      });
      if (res.status === 401) {
        document.getElementById('login').hidden = false;
        document.getElementById('login-error').textContent = token ? 'token rejected' : '';
        document.getElementById('status').textContent = 'token required';
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      document.getElementById('login').hidden = true;
      render(await res.json());
    } catch (e) {
      document.getElementById('status').textContent = `cannot reach the router: ${e.message}`;
    }
    timer = setTimeout(poll, POLL_MS);
  }

  document.getElementById('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value);
    poll();
  });
  poll();
})();
