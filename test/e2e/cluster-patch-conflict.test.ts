// A patch without a resourceVersion precondition is re-applied when another write lands while a webhook admits it
// (as the kube-apiserver does), instead of failing with 409; a patch that pins its resourceVersion still gets 409.
// Found by `kthena bench chaos`: scaling a ModelServing failed with 409 right after the controller manager restarted.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { CMS, call, startTestServer } from './cluster-helpers.js';

const MERGE = { contentType: 'application/merge-patch+json' };

test('a merge patch held by a webhook while another write lands is re-applied on top of it', async () => {
  let held: (() => void) | undefined;
  let heldSeen!: () => void;
  const heldArrived = new Promise<void>((r) => {
    heldSeen = r;
  });
  let calls = 0;
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      calls++;
      const review = JSON.parse(body) as { request: { uid: string; object: { data?: Record<string, string> } } };
      const answer = () => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            response: { uid: review.request.uid, allowed: true },
          }),
        );
      };
      // The first admission of the patch that sets "a" waits until the test lets it go.
      if (review.request.object.data?.a && !held) {
        held = answer;
        heldSeen();
      } else answer();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const srv = await startTestServer();
  try {
    const port = (hook.address() as AddressInfo).port;
    const cfg = await call(srv.url, 'POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'hold' },
      webhooks: [
        {
          name: 'hold.test.kthena.io',
          clientConfig: { url: `http://127.0.0.1:${port}/` },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['configmaps'] }],
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          failurePolicy: 'Fail',
        },
      ],
    });
    assert.equal(cfg.status, 201, cfg.text);
    const created = await call(srv.url, 'POST', CMS, { metadata: { name: 'c' }, data: { x: '0' } });
    assert.equal(created.status, 201);

    const slow = call(srv.url, 'PATCH', `${CMS}/c`, { data: { a: '1' } }, MERGE);
    await heldArrived;
    const fast = await call(srv.url, 'PATCH', `${CMS}/c`, { data: { b: '2' } }, MERGE);
    assert.equal(fast.status, 200, fast.text);
    held?.();
    const r = await slow;
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.data, { x: '0', a: '1', b: '2' }, 'applied on top of the write that landed meanwhile');
    assert.equal(calls, 3, 'the re-applied patch was admitted again');

    // Pinned to an old resourceVersion: the conflict is the client's to resolve.
    const pinned = await call(
      srv.url,
      'PATCH',
      `${CMS}/c`,
      { metadata: { resourceVersion: created.body.metadata.resourceVersion }, data: { c: '3' } },
      MERGE,
    );
    assert.equal(pinned.status, 409, pinned.text);
  } finally {
    await srv.close();
    hook.close();
  }
});
