#!/usr/bin/env node
// Writes deploy/grafana/kthena-router.json and kthena-controllers.json: Grafana dashboards over the metrics the router
// and the controller manager export. Panels are described compactly here and expanded into Grafana's JSON model, so
// the two files stay consistent (datasource variable, layout, units). Run: node scripts/grafana-dashboards.mjs
// A test (deploy/grafana/dashboards.test.ts) checks every metric a query names is registered by the code.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = join(import.meta.dirname, '..', 'deploy', 'grafana');
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
const DS = { type: 'prometheus', uid: '${datasource}' };
const R = '[$__rate_interval]';

/** p50/p90/p99 of a histogram, one query each. */
const quantiles = (metric, by = '', filter = '') =>
  [0.5, 0.9, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket${filter}${R})))`,
    legend: `p${Math.round(q * 100)}${by ? ` {{${by}}}` : ''}`,
  }));

function panel(p, id, gridPos) {
  return {
    id,
    type: p.type ?? 'timeseries',
    title: p.title,
    description: p.description,
    datasource: DS,
    gridPos,
    fieldConfig: {
      defaults: {
        unit: p.unit ?? 'short',
        ...(p.min !== undefined ? { min: p.min } : {}),
        ...(p.max !== undefined ? { max: p.max } : {}),
        custom:
          p.type === 'stat'
            ? undefined
            : {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: p.stack ? 30 : 8,
                stacking: { mode: p.stack ? 'normal' : 'none' },
              },
      },
      overrides: [],
    },
    options:
      p.type === 'stat'
        ? {
            reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
            colorMode: 'value',
            graphMode: 'area',
          }
        : {
            legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] },
            tooltip: { mode: 'multi', sort: 'desc' },
          },
    targets: p.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DS,
      expr: q.expr,
      legendFormat: q.legend ?? '',
    })),
  };
}

/** Rows of panels: each row is a title and panels sharing the 24-column width. */
function dashboard({ uid, title, description, rows, tags }) {
  const panels = [];
  let y = 0;
  let id = 1;
  for (const row of rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    const w = Math.floor(24 / row.panels.length);
    const h = row.height ?? 8;
    row.panels.forEach((p, i) => {
      panels.push(panel(p, id++, { h, w: p.width ?? w, x: i * w, y }));
    });
    y += h;
  }
  return {
    uid,
    title,
    description,
    tags,
    editable: true,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    graphTooltip: 1,
    annotations: { list: [] },
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
      ],
    },
    panels,
  };
}

const router = dashboard({
  uid: 'kthena-router',
  title: 'Kthena router',
  description: 'Traffic, latency, scheduling and governance of kthena routers (kthena_router_* metrics).',
  tags: ['kthena', 'llm', 'router'],
  rows: [
    {
      title: 'Traffic',
      panels: [
        {
          title: 'Request rate by model and status',
          unit: 'reqps',
          stack: true,
          queries: [
            {
              expr: `sum by (model, status_code) (rate(kthena_router_requests_total${R}))`,
              legend: '{{model}} {{status_code}}',
            },
          ],
        },
        {
          title: 'Traffic share by route target (canary splits)',
          unit: 'percentunit',
          max: 1,
          stack: true,
          queries: [
            {
              expr: `sum by (model_route, backend_name) (rate(kthena_router_requests_total${R})) / ignoring(backend_name) group_left sum by (model_route) (rate(kthena_router_requests_total${R}))`,
              legend: '{{model_route}} → {{backend_name}}',
            },
          ],
        },
        {
          title: 'Active requests',
          queries: [
            { expr: 'sum(kthena_router_active_requests)', legend: 'router' },
            { expr: 'sum by (model) (kthena_router_active_downstream_requests)', legend: 'downstream {{model}}' },
            {
              expr: 'sum by (model_server) (kthena_router_active_upstream_requests)',
              legend: 'upstream {{model_server}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Latency',
      panels: [
        { title: 'Time to first token (TTFT)', unit: 's', queries: quantiles('kthena_router_request_ttft_seconds') },
        { title: 'Time per output token (TPOT)', unit: 's', queries: quantiles('kthena_router_request_tpot_seconds') },
        {
          title: 'End-to-end request duration',
          unit: 's',
          queries: quantiles('kthena_router_request_duration_seconds'),
        },
      ],
    },
    {
      title: 'Failures and limits',
      panels: [
        {
          title: 'Failed requests by error type',
          unit: 'reqps',
          stack: true,
          queries: [
            {
              expr: `sum by (status_code, error_type) (rate(kthena_router_requests_total{status_code!~"2.."}${R}))`,
              legend: '{{status_code}} {{error_type}}',
            },
          ],
        },
        {
          title: 'Rate-limited and rejected requests',
          unit: 'reqps',
          stack: true,
          queries: [
            {
              expr: `sum by (model, limit_type) (rate(kthena_router_rate_limit_exceeded_total${R}))`,
              legend: 'rate limit {{model}} {{limit_type}}',
            },
            {
              expr: `sum by (scope) (rate(kthena_router_concurrency_rejected_total${R}))`,
              legend: 'concurrency cap {{scope}}',
            },
            {
              expr: `sum by (model, reason) (rate(kthena_router_fairness_queue_cancelled_total${R}))`,
              legend: 'fairness queue {{model}} {{reason}}',
            },
            { expr: `sum by (reason) (rate(kthena_router_auth_failures_total${R}))`, legend: 'auth {{reason}}' },
          ],
        },
        {
          title: 'Upstream attempts by outcome',
          unit: 'reqps',
          stack: true,
          queries: [
            {
              expr: `sum by (model_server, outcome) (rate(kthena_router_upstream_attempts_total${R}))`,
              legend: '{{model_server}} {{outcome}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Endpoints',
      panels: [
        {
          title: 'In-flight requests per endpoint (router)',
          queries: [{ expr: 'sum by (endpoint) (kthena_router_endpoint_inflight_requests)', legend: '{{endpoint}}' }],
        },
        {
          title: 'Engine queue per endpoint (waiting / running)',
          queries: [
            { expr: 'sum by (endpoint) (kthena_router_endpoint_waiting_requests)', legend: 'waiting {{endpoint}}' },
            { expr: 'sum by (endpoint) (kthena_router_endpoint_running_requests)', legend: 'running {{endpoint}}' },
          ],
        },
        {
          title: 'KV-cache usage per endpoint',
          unit: 'percentunit',
          min: 0,
          max: 1,
          queries: [
            { expr: 'max by (endpoint) (kthena_router_endpoint_kv_cache_usage_ratio)', legend: '{{endpoint}}' },
          ],
        },
        {
          title: 'Outlier ejections and circuit state',
          queries: [
            {
              expr: `sum by (endpoint, reason) (increase(kthena_router_endpoint_ejections_total${R}))`,
              legend: 'ejected {{endpoint}} {{reason}}',
            },
            {
              expr: 'max by (endpoint) (kthena_router_endpoint_circuit_state) > 0',
              legend: 'open/half-open {{endpoint}}',
            },
          ],
        },
      ],
    },
    {
      title: 'KV cache awareness',
      panels: [
        {
          title: 'Prefix-cache hit rate per endpoint (engine-reported)',
          unit: 'percentunit',
          min: 0,
          max: 1,
          queries: [
            {
              expr: `sum by (endpoint) (delta(kthena_router_endpoint_prefix_cache_hits[5m])) / sum by (endpoint) (delta(kthena_router_endpoint_prefix_cache_queries[5m]))`,
              legend: '{{endpoint}}',
            },
          ],
        },
        {
          title: "Router's predicted prefix match (mean ratio)",
          unit: 'percentunit',
          min: 0,
          max: 1,
          queries: [
            {
              expr: `sum by (model) (rate(kthena_router_prefix_cache_match_ratio_sum${R})) / sum by (model) (rate(kthena_router_prefix_cache_match_ratio_count${R}))`,
              legend: 'prefix-cache {{model}}',
            },
            {
              expr: `sum by (model) (rate(kthena_router_kvcache_aware_match_ratio_sum${R})) / sum by (model) (rate(kthena_router_kvcache_aware_match_ratio_count${R}))`,
              legend: 'kvcache-aware {{model}}',
            },
          ],
        },
        {
          title: 'Cached-token prediction error (predicted vs engine-reported)',
          unit: 'percentunit',
          min: 0,
          description:
            'Moving mean of |predicted − reported cached tokens| / prompt tokens. High: block size, hash seed or tokenizer differ from the engines, or KV events are lost.',
          queries: [
            { expr: 'max by (model) (kthena_router_kv_cached_tokens_prediction_error_ratio)', legend: '{{model}}' },
          ],
        },
      ],
    },
    {
      title: 'Queues and providers',
      panels: [
        {
          title: 'Fairness and session-boost queues',
          queries: [
            { expr: 'sum by (model) (kthena_router_fairness_queue_size)', legend: 'queued {{model}}' },
            { expr: 'sum by (model) (kthena_router_fairness_queue_inflight)', legend: 'admitted {{model}}' },
            { expr: 'sum by (model) (kthena_router_session_boost_queue_size)', legend: 'boosted queued {{model}}' },
          ],
        },
        {
          title: 'Fairness queue wait',
          unit: 's',
          queries: quantiles('kthena_router_fairness_queue_duration_seconds'),
        },
        {
          title: 'Fallback to external providers',
          unit: 'reqps',
          stack: true,
          queries: [
            {
              expr: `sum by (model_route, provider, reason) (rate(kthena_router_fallback_requests_total${R}))`,
              legend: '{{model_route}} → {{provider}} ({{reason}})',
            },
            {
              expr: `sum by (provider, outcome) (rate(kthena_router_external_provider_requests_total${R}))`,
              legend: 'provider {{provider}} {{outcome}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Scheduler and tokens',
      panels: [
        {
          title: 'Scheduler plugin time (p99)',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (le, plugin, type) (rate(kthena_router_scheduler_plugin_duration_seconds_bucket${R})))`,
              legend: '{{type}} {{plugin}}',
            },
          ],
        },
        {
          title: 'Tokens per second',
          unit: 'short',
          stack: true,
          queries: [
            {
              expr: `sum by (model, token_type) (rate(kthena_router_tokens_total${R}))`,
              legend: '{{model}} {{token_type}}',
            },
          ],
        },
        {
          title: 'Requests held for scale from zero',
          queries: [
            { expr: 'sum(kthena_router_scale_from_zero_waiting_requests)', legend: 'waiting' },
            {
              expr: `sum by (outcome) (rate(kthena_router_scale_from_zero_waits_total${R}))`,
              legend: 'ended {{outcome}} /s',
            },
          ],
        },
      ],
    },
  ],
});

const controllers = dashboard({
  uid: 'kthena-controllers',
  title: 'Kthena controllers',
  description:
    'Reconciles, work queues, readiness and autoscaler decisions of the kthena controller manager (controller-runtime / client-go metric names plus kthena_*).',
  tags: ['kthena', 'controllers'],
  rows: [
    {
      title: 'Reconciles',
      panels: [
        {
          title: 'Reconcile rate by controller and result',
          unit: 'ops',
          stack: true,
          queries: [
            {
              expr: `sum by (controller, result) (rate(controller_runtime_reconcile_total${R}))`,
              legend: '{{controller}} {{result}}',
            },
          ],
        },
        {
          title: 'Reconcile errors',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (controller) (rate(controller_runtime_reconcile_errors_total${R}))`,
              legend: '{{controller}}',
            },
          ],
        },
        {
          title: 'Reconcile time',
          unit: 's',
          queries: quantiles('controller_runtime_reconcile_time_seconds', 'controller').filter((_, i) => i !== 1),
        },
      ],
    },
    {
      title: 'Work queues',
      panels: [
        { title: 'Queue depth', queries: [{ expr: 'sum by (name) (workqueue_depth)', legend: '{{name}}' }] },
        {
          title: 'Adds and retries',
          unit: 'ops',
          queries: [
            { expr: `sum by (name) (rate(workqueue_adds_total${R}))`, legend: 'adds {{name}}' },
            { expr: `sum by (name) (rate(workqueue_retries_total${R}))`, legend: 'retries {{name}}' },
          ],
        },
        {
          title: 'Time queued and time worked (p99)',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (le, name) (rate(workqueue_queue_duration_seconds_bucket${R})))`,
              legend: 'queued {{name}}',
            },
            {
              expr: `histogram_quantile(0.99, sum by (le, name) (rate(workqueue_work_duration_seconds_bucket${R})))`,
              legend: 'worked {{name}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Readiness',
      panels: [
        {
          title: 'ModelServing serving groups: desired vs available',
          queries: [
            {
              expr: 'sum by (namespace, name) (kthena_modelserving_replicas{state="desired"})',
              legend: 'desired {{namespace}}/{{name}}',
            },
            {
              expr: 'sum by (namespace, name) (kthena_modelserving_replicas{state="available"})',
              legend: 'available {{namespace}}/{{name}}',
            },
          ],
        },
        {
          title: 'ModelServings not fully available',
          type: 'stat',
          queries: [
            {
              expr: 'count((kthena_modelserving_replicas{state="available"} < ignoring(state) kthena_modelserving_replicas{state="desired"})) or vector(0)',
              legend: 'not available',
            },
          ],
        },
        {
          title: 'ModelBoosters ready',
          type: 'stat',
          queries: [
            { expr: 'sum(kthena_modelbooster_ready)', legend: 'ready' },
            { expr: 'count(kthena_modelbooster_ready) - sum(kthena_modelbooster_ready)', legend: 'not ready' },
          ],
        },
      ],
    },
    {
      title: 'Autoscaler',
      panels: [
        {
          title: 'Replicas: current, recommended, desired',
          queries: [{ expr: 'max by (target, kind) (kthena_autoscaler_replicas)', legend: '{{target}} {{kind}}' }],
        },
        {
          title: 'Scale decisions',
          unit: 'short',
          queries: [
            {
              expr: `sum by (target, direction) (increase(kthena_autoscaler_scale_decisions_total${R}))`,
              legend: '{{target}} {{direction}}',
            },
          ],
        },
        {
          title: 'Seconds since the last autoscaling pass',
          unit: 's',
          queries: [{ expr: 'time() - max(kthena_autoscaler_last_pass_timestamp_seconds)', legend: 'age' }],
        },
      ],
    },
    {
      title: 'API and leadership',
      panels: [
        {
          title: 'API writes by controller, verb and outcome',
          unit: 'ops',
          stack: true,
          queries: [
            {
              expr: `sum by (controller, verb, resource, outcome) (rate(kthena_controller_api_requests_total${R}))`,
              legend: '{{controller}} {{verb}} {{resource}} {{outcome}}',
            },
          ],
        },
        {
          title: 'Leader',
          type: 'stat',
          queries: [{ expr: 'max by (pod) (kthena_controller_manager_leader)', legend: '{{pod}}' }],
        },
      ],
    },
  ],
});

for (const [file, d] of [
  ['kthena-router.json', router],
  ['kthena-controllers.json', controllers],
]) {
  writeFileSync(join(OUT, file), `${JSON.stringify(d, null, 2)}\n`);
  process.stdout.write(`wrote deploy/grafana/${file} (${d.panels.filter((p) => p.type !== 'row').length} panels)\n`);
}
