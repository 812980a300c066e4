import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEngineArgs, translateEngine } from './engine-translation.js';
import { splitShellCommands } from './shell-words.js';

const ctx = { podIP: '127.20.0.5', gpus: 1 };
const argvOf = (c: Parameters<typeof translateEngine>[0], g = ctx) => {
  const t = translateEngine(c, g);
  assert.ok(t && t.kind === 'engine', `expected an engine translation, got ${JSON.stringify(t)}`);
  return t.argv;
};

test('vllm serve MODEL --port … becomes engine-sim on the pod IP', () => {
  assert.deepEqual(
    argvOf({
      image: 'vllm/vllm-openai:v0.10.0',
      command: ['vllm', 'serve', 'Qwen/Qwen2.5-0.5B'],
      args: [
        '--port',
        '8100',
        '--block-size=32',
        '--max-num-seqs',
        '64',
        '--max-num-batched-tokens',
        '4096',
        '--max-model-len',
        '8192',
        '--served-model-name',
        'qwen',
        'qwen-alias',
      ],
    }),
    [
      'engine-sim',
      '--engine',
      'vllm',
      '--host',
      '127.20.0.5',
      '--port',
      '8100',
      '--model',
      'Qwen/Qwen2.5-0.5B',
      '--served-model-name',
      'qwen',
      '--block-size',
      '32',
      '--max-num-seqs',
      '64',
      '--max-num-batched-tokens',
      '4096',
      '--max-model-len',
      '8192',
      '--role',
      'both',
    ],
  );
});

test('python -m vllm.entrypoints.openai.api_server with --model, defaults to port 8000', () => {
  const t = translateEngine(
    {
      image: 'x',
      command: [
        'python3',
        '-m',
        'vllm.entrypoints.openai.api_server',
        '--model',
        '/models/abc',
        '--served-model-name',
        'm1',
        '--enforce-eager',
        '--trust-remote-code',
        'true',
      ],
    },
    ctx,
  );
  assert.ok(t?.kind === 'engine');
  assert.equal(t.port, 8000);
  assert.equal(t.model, 'm1');
  assert.deepEqual(t.argv.slice(0, 10), [
    'engine-sim',
    '--engine',
    'vllm',
    '--host',
    '127.20.0.5',
    '--port',
    '8000',
    '--model',
    '/models/abc',
    '--served-model-name',
  ]);
});

test('SGLang launch_server flags map to the simulator', () => {
  assert.deepEqual(
    argvOf(
      {
        image: 'lmsysorg/sglang:latest',
        command: ['python3', '-m', 'sglang.launch_server'],
        args: [
          '--model-path',
          'meta-llama/Llama-3.1-8B',
          '--port',
          '30001',
          '--page-size',
          '16',
          '--max-running-requests',
          '32',
          '--context-length',
          '4096',
          '--disaggregation-mode',
          'decode',
          '--tp-size',
          '2',
          '--lora-paths',
          'a=/l/a',
          'b=/l/b',
        ],
      },
      { podIP: '127.20.0.6', gpus: 2 },
    ),
    [
      'engine-sim',
      '--engine',
      'sglang',
      '--host',
      '127.20.0.6',
      '--port',
      '30001',
      '--model',
      'meta-llama/Llama-3.1-8B',
      '--block-size',
      '16',
      '--max-num-seqs',
      '32',
      '--max-model-len',
      '4096',
      '--role',
      'decode',
      '--enable-lora',
      '--lora-modules',
      'a=/l/a',
      '--lora-modules',
      'b=/l/b',
    ],
  );
  const noPort = translateEngine({ command: ['python', '-m', 'sglang.launch_server', '--model-path', 'm'] }, ctx);
  assert.equal(noPort?.kind === 'engine' && noPort.port, 30000);
});

test('kv-transfer-config role, LoRA modules (name=path and JSON), kv events endpoint', () => {
  const argv = argvOf({
    command: ['vllm', 'serve', 'm'],
    args: [
      '--kv-transfer-config',
      '{"kv_connector":"NixlConnector","kv_role":"kv_producer"}',
      '--enable-lora',
      '--max-loras',
      '4',
      '--lora-modules',
      'sql=/a/sql',
      '{"name":"chat","path":"/a/chat"}',
      '--kv-events-config',
      '{"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://*:5557"}',
    ],
  });
  assert.deepEqual(argv.slice(9), [
    '--max-loras',
    '4',
    '--role',
    'prefill',
    '--enable-lora',
    '--lora-modules',
    'sql=/a/sql',
    '--lora-modules',
    'chat=/a/chat',
    '--kv-events-endpoint',
    'tcp://127.20.0.5:5557',
  ]);
  assert.ok(
    argvOf({ command: ['vllm', 'serve', 'm', '--kv-transfer-config', '{"kv_role":"kv_consumer"}'] }).includes('decode'),
  );
  assert.ok(argvOf({ command: ['vllm', 'serve', 'm', '--kv-transfer-config={"kv_role":"kv_both"}'] }).includes('both'));
});

test('tensor parallel size is checked against the container GPUs', () => {
  const big = translateEngine(
    { command: ['vllm', 'serve', 'm', '--tensor-parallel-size', '4'] },
    { podIP: 'x', gpus: 2 },
  );
  assert.equal(big?.kind, 'error');
  assert.match(big?.kind === 'error' ? big.message : '', /needs 4 GPUs, but the container has 2 nvidia.com\/gpu/);
  assert.equal(
    translateEngine({ command: ['vllm', 'serve', 'm', '-tp', '2'] }, { podIP: 'x', gpus: 2 })?.kind,
    'engine',
  );
  assert.equal(
    translateEngine(
      { command: ['vllm', 'serve', 'm', '--tensor-parallel-size', '2', '--pipeline-parallel-size', '2'] },
      { podIP: 'x', gpus: 2 },
    )?.kind,
    'error',
  );
  assert.equal(
    translateEngine(
      { command: ['vllm', 'serve', 'm', '--tensor-parallel-size', '8', '--distributed_executor_backend', 'ray'] },
      { podIP: 'x', gpus: 2 },
    )?.kind,
    'engine',
    'multi-node (ray) spans pods, so the per-pod check does not apply',
  );
});

test('shell-wrapped commands, as ModelBooster generates them', () => {
  const booster = translateEngine(
    {
      image: 'vllm/vllm-openai:latest',
      command: [
        'bash',
        '-c',
        'PIP_DISABLE_PIP_VERSION_CHECK=1 pip install -U --no-cache-dir nixl && python3 -m vllm.entrypoints.openai.api_server --model /cache/abc --kv-transfer-config \'{"kv_connector":"NixlConnector","kv_role":"kv_consumer"}\' --port 8001',
      ],
    },
    ctx,
  );
  assert.ok(booster?.kind === 'engine');
  assert.equal(booster.port, 8001);
  assert.ok(booster.argv.includes('decode'));
  const leader = translateEngine(
    {
      command: [
        'bash',
        '-c',
        'chmod u+x examples/online_serving/multi-node-serving.sh && examples/online_serving/multi-node-serving.sh leader --ray_cluster_size=2 --num-gpus=2 && python3 -m vllm.entrypoints.openai.api_server --model /m --tensor-parallel-size 4 --distributed_executor_backend ray',
      ],
    },
    ctx,
  );
  assert.equal(leader?.kind, 'engine');
  const worker = translateEngine(
    {
      command: [
        'bash',
        '-c',
        'chmod u+x examples/online_serving/multi-node-serving.sh && examples/online_serving/multi-node-serving.sh worker --ray_address=leader.default',
      ],
    },
    ctx,
  );
  assert.equal(worker?.kind, 'idle');
  assert.equal(
    translateEngine({ command: ['sh', '-c', 'exec vllm serve "my model" --port 9000; echo done'] }, ctx)?.kind,
    'engine',
  );
  assert.equal(
    translateEngine({ command: ['/bin/sh', '-c'], args: ['VLLM_USE_V1=1 vllm serve m'] }, ctx)?.kind,
    'engine',
  );
});

test('image-only engine containers take args as flags', () => {
  const t = translateEngine(
    { image: 'docker.io/vllm/vllm-openai-cpu:v0.9', args: ['--model', 'tiny', '--port', '8080'] },
    ctx,
  );
  assert.ok(t?.kind === 'engine');
  assert.equal(t.port, 8080);
  assert.equal(t.model, 'tiny');
});

test('non-engine containers are left alone', () => {
  assert.equal(translateEngine({ image: 'nginx', command: ['nginx', '-g', 'daemon off;'] }, ctx), null);
  assert.equal(translateEngine({ image: 'busybox', command: ['sh', '-c', 'echo vllm serve later'] }, ctx), null);
  assert.equal(translateEngine({ image: 'python:3.12', command: ['python3', '-m', 'http.server'] }, ctx), null);
  assert.equal(translateEngine({ image: 'kthena/runtime:latest', args: ['--port', '8100'] }, ctx), null);
  assert.equal(translateEngine({ command: ['sh', '-c', 'echo "unterminated'] }, ctx), null);
});

test('malformed engine flags give clear errors instead of a crash', () => {
  const cases: [string[], RegExp][] = [
    [['vllm', 'serve', 'm', '--port', 'abc'], /--port must be a positive integer/],
    [['vllm', 'serve', 'm', '--port', '70000'], /out of range/],
    [['vllm', 'serve', 'm', '--kv-transfer-config', '{bad'], /not valid JSON/],
    [['vllm', 'serve', 'm', '--kv-transfer-config', '{"kv_role":"kv_weird"}'], /unknown kv_role/],
    [['vllm', 'serve', 'm', '--lora-modules', 'noequals'], /must be name=path/],
    [['vllm', 'serve', 'm', '--lora-modules', '{"name":"x"}'], /needs "name" and "path"/],
    [['vllm', 'serve', 'm', '--max-num-seqs', '-3'], /positive integer/],
    [['python3', '-m', 'sglang.launch_server', '--port', '1'], /needs --model-path/],
    [
      ['python3', '-m', 'sglang.launch_server', '--model-path', 'm', '--disaggregation-mode', 'sideways'],
      /not prefill or decode/,
    ],
  ];
  for (const [command, re] of cases) {
    const t = translateEngine({ command }, ctx);
    assert.equal(t?.kind, 'error', command.join(' '));
    assert.match(t?.kind === 'error' ? t.message : '', re);
  }
});

test('argument parser: equals form, nargs, booleans, negative numbers', () => {
  const p = parseEngineArgs(['m', '--a=1', '--b', 'x', 'y', '--enable-lora', 'pos', '--n', '-1', '--under_score', 'v']);
  assert.deepEqual(p.positional, ['m', 'pos']);
  assert.deepEqual(Object.fromEntries(p.flags), {
    a: ['1'],
    b: ['x', 'y'],
    'enable-lora': [],
    n: ['-1'],
    'under-score': ['v'],
  });
});

test('shell splitting handles quotes, escapes, operators and comments', () => {
  assert.deepEqual(splitShellCommands(`a 'b c' "d \\"e\\"" f\\ g && h; i | j || k & l # c\nm`), [
    ['a', 'b c', 'd "e"', 'f g'],
    ['h'],
    ['i'],
    ['j'],
    ['k'],
    ['l'],
    ['m'],
  ]);
  assert.deepEqual(splitShellCommands(`x ''`), [['x', '']]);
  assert.throws(() => splitShellCommands(`'open`), /unterminated/);
});
