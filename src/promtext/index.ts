// Prometheus text exposition, read by both planes: the router scrapes engines, the autoscaler scrapes pods.
export { declaredType, type Family, type FamilyType, type HistogramSeries, readFamily } from './families.js';
export { parsePrometheusText, type Sample } from './parse.js';
