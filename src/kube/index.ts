// The shared Kubernetes runtime: client, informer, work queue, leader election, events, clock.
export * from './backoff.js';
export * from './client.js';
export * from './clock.js';
export * from './duration.js';
export * from './errors.js';
export * from './events.js';
export * from './informer.js';
export * from './leader.js';
export * from './log.js';
export * from './resource.js';
export * from './watch-decoder.js';
export * from './workqueue.js';
