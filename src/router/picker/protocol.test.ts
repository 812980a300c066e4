// Golden wire bytes, assembled by hand from the protobuf encoding rules and the field numbers of Envoy's published
// ext_proc API: a typo in a field number here would make a real gateway's messages decode as something else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromStruct, pickerServices, toStruct } from './protocol.js';

const process = (pickerServices().extProc.service as any).Process;

test('a ProcessingRequest carrying request_body (field 4) with body (1) and end_of_stream (2) decodes', () => {
  const wire = Buffer.from([0x22, 0x06, 0x0a, 0x02, 0x68, 0x69, 0x10, 0x01]);
  const m = process.requestDeserialize(wire);
  assert.equal(m.request, 'requestBody');
  assert.equal(m.requestBody.body.toString(), 'hi');
  assert.equal(m.requestBody.endOfStream, true);
});

test('a BodyResponse that sets one header and clears the route cache encodes to the bytes Envoy expects', () => {
  const bytes = process.responseSerialize({
    requestBody: {
      response: {
        headerMutation: {
          setHeaders: [
            { header: { key: 'k', rawValue: Buffer.from('v') }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
          ],
        },
        clearRouteCache: true,
      },
    },
  });
  // ProcessingResponse.request_body(3) { BodyResponse.response(1) { CommonResponse.header_mutation(2) {
  //   HeaderMutation.set_headers(1) { HeaderValueOption.header(1) { key(1) "k", raw_value(3) "v" },
  //   append_action(3) = OVERWRITE_IF_EXISTS_OR_ADD (2) } }, clear_route_cache(5) = true } }
  const want = [0x1a, 0x12, 0x0a, 0x10, 0x12, 0x0c, 0x0a, 0x0a, 0x0a, 0x06, 0x0a, 0x01, 0x6b, 0x1a, 0x01, 0x76];
  assert.deepEqual([...bytes], [...want, 0x18, 0x02, 0x28, 0x01]);
});

test('an ImmediateResponse carries the HTTP status in HttpStatus.code (field 1 of field 1 of field 7)', () => {
  const bytes = process.responseSerialize({ immediateResponse: { status: { code: 503 } } });
  // 503 as a varint: 0xf7 0x03
  assert.deepEqual([...bytes], [0x3a, 0x05, 0x0a, 0x03, 0x08, 0xf7, 0x03]);
});

test('Struct round trip: strings, numbers, booleans, null, lists and nested objects', () => {
  const v = { 'envoy.lb': { a: 'x', n: 1.5, t: true, z: null, l: ['p', 'q'] } };
  assert.deepEqual(
    fromStruct(
      process.responseDeserialize(process.responseSerialize({ dynamicMetadata: toStruct(v) })).dynamicMetadata,
    ),
    v,
  );
});
