// One simulated engine as its own process, for the scheduling benchmark, plus a side "oracle" port that exposes
// the engine's true state (prefix-cache contents and queued prefill work). Only the benchmark can see this; it is
// what lets the oracle strategy measure the ceiling a real scheduler could reach.
// Usage: node --import tsx bench/scheduling/engine-host.ts '{"profile":…,"speedup":…,"numGpuBlocks":…}'
// Prints one JSON line {url, kvEventsPort, oracleUrl} once listening.
import { createServer as createHttp } from 'node:http';
import { createServer as createNet } from 'node:net';
import { startEngine } from '../../src/engine/index.js';
import { engineTruth } from '../../src/twin/index.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNet();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as {
  model: string;
  profile: string;
  speedup: number;
  numGpuBlocks?: number;
  seed?: number;
};
const kvEventsPort = await freePort();
const eng = await startEngine({
  model: cfg.model,
  profile: cfg.profile,
  speedup: cfg.speedup,
  numGpuBlocks: cfg.numGpuBlocks,
  seed: cfg.seed ?? 0,
  port: 0,
  host: '127.0.0.1',
  kvEventsEndpoint: `tcp://*:${kvEventsPort}`,
  log: () => {},
});
const oracle = createHttp((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { hashes?: number[] };
      const out = JSON.stringify(engineTruth(eng.engine, body.hashes ?? []));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(out);
    } catch (e) {
      res.writeHead(400).end(String(e));
    }
  });
});
await new Promise<void>((r) => oracle.listen(0, '127.0.0.1', r));
const oraclePort = (oracle.address() as { port: number }).port;
process.stdout.write(
  `${JSON.stringify({ url: eng.url, kvEventsPort, oracleUrl: `http://127.0.0.1:${oraclePort}` })}\n`,
);
const stop = () => {
  oracle.close();
  void eng.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
