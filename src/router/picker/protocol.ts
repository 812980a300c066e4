// The wire schema of the Gateway API Inference Extension's endpoint-picker protocol: Envoy's external-processing
// service (envoy.service.ext_proc.v3.ExternalProcessor, a bidirectional gRPC stream) and the gRPC health service.
// Only the messages and fields an endpoint picker reads or writes are declared; field numbers and names are those of
// Envoy's published API, so a real gateway's messages decode here and ours decode there (unknown fields are skipped
// by protobuf). Declared as a protobuf.js JSON descriptor rather than .proto files: it compiles with the rest of the
// router and needs no file shipped beside dist/.
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';

const f = (id: number, type: string, rule?: 'repeated') => (rule ? { id, type, rule } : { id, type });

const STRUCT = {
  Struct: { fields: { fields: { keyType: 'string', type: 'Value', id: 1 } } },
  Value: {
    oneofs: { kind: { oneof: ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'] } },
    fields: {
      nullValue: f(1, 'NullValue'),
      numberValue: f(2, 'double'),
      stringValue: f(3, 'string'),
      boolValue: f(4, 'bool'),
      structValue: f(5, 'Struct'),
      listValue: f(6, 'ListValue'),
    },
  },
  NullValue: { values: { NULL_VALUE: 0 } },
  ListValue: { fields: { values: f(1, 'Value', 'repeated') } },
  Duration: { fields: { seconds: f(1, 'int64'), nanos: f(2, 'int32') } },
};

const CORE = {
  HeaderValue: { fields: { key: f(1, 'string'), value: f(2, 'string'), rawValue: f(3, 'bytes') } },
  HeaderMap: { fields: { headers: f(1, 'HeaderValue', 'repeated') } },
  HeaderValueOption: {
    fields: { header: f(1, 'HeaderValue'), appendAction: f(3, 'HeaderAppendAction'), keepEmptyValue: f(4, 'bool') },
  },
  HeaderAppendAction: {
    values: {
      APPEND_IF_EXISTS_OR_ADD: 0,
      ADD_IF_ABSENT: 1,
      OVERWRITE_IF_EXISTS_OR_ADD: 2,
      OVERWRITE_IF_EXISTS: 3,
    },
  },
  Metadata: { fields: { filterMetadata: { keyType: 'string', type: 'google.protobuf.Struct', id: 1 } } },
};

const EXT_PROC = {
  ExternalProcessor: {
    methods: {
      Process: {
        requestType: 'ProcessingRequest',
        requestStream: true,
        responseType: 'ProcessingResponse',
        responseStream: true,
      },
    },
  },
  ProtocolConfiguration: {
    fields: {
      requestBodyMode: f(1, 'BodySendMode'),
      responseBodyMode: f(2, 'BodySendMode'),
      sendBodyWithoutWaitingForHeaderResponse: f(3, 'bool'),
    },
  },
  // envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode
  BodySendMode: {
    values: { NONE: 0, STREAMED: 1, BUFFERED: 2, BUFFERED_PARTIAL: 3, FULL_DUPLEX_STREAMED: 4, GRPC: 5 },
  },
  ProcessingRequest: {
    oneofs: {
      request: {
        oneof: [
          'requestHeaders',
          'responseHeaders',
          'requestBody',
          'responseBody',
          'requestTrailers',
          'responseTrailers',
        ],
      },
    },
    fields: {
      requestHeaders: f(2, 'HttpHeaders'),
      responseHeaders: f(3, 'HttpHeaders'),
      requestBody: f(4, 'HttpBody'),
      responseBody: f(5, 'HttpBody'),
      requestTrailers: f(6, 'HttpTrailers'),
      responseTrailers: f(7, 'HttpTrailers'),
      metadataContext: f(8, 'envoy.config.core.v3.Metadata'),
      observabilityMode: f(10, 'bool'),
      protocolConfig: f(11, 'ProtocolConfiguration'),
    },
  },
  ProcessingResponse: {
    oneofs: {
      response: {
        oneof: [
          'requestHeaders',
          'responseHeaders',
          'requestBody',
          'responseBody',
          'requestTrailers',
          'responseTrailers',
          'immediateResponse',
        ],
      },
    },
    fields: {
      requestHeaders: f(1, 'HeadersResponse'),
      responseHeaders: f(2, 'HeadersResponse'),
      requestBody: f(3, 'BodyResponse'),
      responseBody: f(4, 'BodyResponse'),
      requestTrailers: f(5, 'TrailersResponse'),
      responseTrailers: f(6, 'TrailersResponse'),
      immediateResponse: f(7, 'ImmediateResponse'),
      dynamicMetadata: f(8, 'google.protobuf.Struct'),
      overrideMessageTimeout: f(10, 'google.protobuf.Duration'),
    },
  },
  HttpHeaders: { fields: { headers: f(1, 'envoy.config.core.v3.HeaderMap'), endOfStream: f(3, 'bool') } },
  HttpBody: { fields: { body: f(1, 'bytes'), endOfStream: f(2, 'bool') } },
  HttpTrailers: { fields: { trailers: f(1, 'envoy.config.core.v3.HeaderMap') } },
  HeadersResponse: { fields: { response: f(1, 'CommonResponse') } },
  BodyResponse: { fields: { response: f(1, 'CommonResponse') } },
  TrailersResponse: { fields: { headerMutation: f(1, 'HeaderMutation') } },
  CommonResponse: {
    fields: {
      status: f(1, 'ResponseStatus'),
      headerMutation: f(2, 'HeaderMutation'),
      bodyMutation: f(3, 'BodyMutation'),
      clearRouteCache: f(5, 'bool'),
    },
    nested: { ResponseStatus: { values: { CONTINUE: 0, CONTINUE_AND_REPLACE: 1 } } },
  },
  ImmediateResponse: {
    fields: {
      status: f(1, 'envoy.type.v3.HttpStatus'),
      headers: f(2, 'HeaderMutation'),
      body: f(3, 'bytes'),
      grpcStatus: f(4, 'GrpcStatus'),
      details: f(5, 'string'),
    },
  },
  GrpcStatus: { fields: { status: f(1, 'uint32') } },
  HeaderMutation: {
    fields: {
      setHeaders: f(1, 'envoy.config.core.v3.HeaderValueOption', 'repeated'),
      removeHeaders: f(2, 'string', 'repeated'),
    },
  },
  StreamedBodyResponse: { fields: { body: f(1, 'bytes'), endOfStream: f(2, 'bool') } },
  BodyMutation: {
    oneofs: { mutation: { oneof: ['body', 'clearBody', 'streamedResponse'] } },
    fields: { body: f(1, 'bytes'), clearBody: f(2, 'bool'), streamedResponse: f(3, 'StreamedBodyResponse') },
  },
};

const HEALTH = {
  Health: {
    methods: { Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' } },
  },
  HealthCheckRequest: { fields: { service: f(1, 'string') } },
  HealthCheckResponse: {
    fields: { status: f(1, 'ServingStatus') },
    nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
  },
};

const DESCRIPTOR = {
  nested: {
    google: { nested: { protobuf: { nested: STRUCT } } },
    envoy: {
      nested: {
        config: { nested: { core: { nested: { v3: { nested: CORE } } } } },
        // envoy.type.v3.HttpStatus: the code is an enum of HTTP status numbers; declared as a plain int32 (the same
        // varint on the wire) so every status passes through without listing them.
        type: { nested: { v3: { nested: { HttpStatus: { fields: { code: f(1, 'int32') } } } } } },
        service: { nested: { ext_proc: { nested: { v3: { nested: EXT_PROC } } } } },
      },
    },
    grpc: { nested: { health: { nested: { v1: { nested: HEALTH } } } } },
  },
};

/** The service definitions, loaded once. Enums as names, bytes as Buffers, oneofs with their case name. */
export function pickerServices() {
  const def = fromJSON(DESCRIPTOR as Parameters<typeof fromJSON>[0], {
    keepCase: false,
    enums: String,
    defaults: true,
    oneofs: true,
    longs: Number,
  });
  const pkg = grpc.loadPackageDefinition(def) as any;
  return {
    extProc: pkg.envoy.service.ext_proc.v3.ExternalProcessor as grpc.ServiceClientConstructor,
    health: pkg.grpc.health.v1.Health as grpc.ServiceClientConstructor,
  };
}

// ---- google.protobuf.Struct ↔ plain values ----

export type Plain = null | number | string | boolean | Plain[] | { [k: string]: Plain };
interface PbValue {
  kind?: string;
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: PbStruct;
  listValue?: { values?: PbValue[] };
}
export interface PbStruct {
  fields?: Record<string, PbValue>;
}

export function toStruct(o: Record<string, Plain>): PbStruct {
  const fields: Record<string, PbValue> = {};
  for (const [k, v] of Object.entries(o)) fields[k] = toValue(v);
  return { fields };
}

function toValue(v: Plain): PbValue {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  return { structValue: toStruct(v) };
}

export function fromStruct(s: PbStruct | null | undefined): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  for (const [k, v] of Object.entries(s?.fields ?? {})) out[k] = fromValue(v);
  return out;
}

function fromValue(v: PbValue): Plain {
  switch (v.kind) {
    case 'numberValue':
      return v.numberValue ?? 0;
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'structValue':
      return fromStruct(v.structValue);
    case 'listValue':
      return (v.listValue?.values ?? []).map(fromValue);
    default:
      return null;
  }
}
