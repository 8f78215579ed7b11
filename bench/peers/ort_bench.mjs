#!/usr/bin/env node
// Peer benchmark: runs one ONNX file with ONNX Runtime (onnxruntime-node, CPU execution provider) and prints one
// JSON line with per-run latencies and the output names/shapes, so edgec's own benchmarks can be compared with it
// on the same machine. Normally started through bench/peers/onnxruntime.sh run, which points EDGEC_ORT_DIR at the
// npm prefix that `onnxruntime.sh setup` filled.
//
// usage: ort_bench.mjs MODEL.onnx [--input name=FILE.npy]... [--random name[=D0,D1,...]]... [--seed S]
//                      [--threads N] [--spin on|off] [--warmup W] [--runs R] [--output-dir DIR] [--save-inputs DIR]
//
// --output-dir writes every output as DIR/<name>.npy (f32; other dtypes converted; characters outside
// [A-Za-z0-9._-] in the name become _). --save-inputs writes the random inputs the same way, for replaying them in
// edgec (edgec run MODEL --input name=DIR/name.npy).
//
// Inputs: every graph input needs a value. --input reads a .npy (f32, i64, i32 or u8, little-endian, C order).
// --random fills an f32 tensor with uniform [0,1) numbers from the counter-based SplitMix64 generator below;
// without dims it takes the model's declared shape. An input named by neither option is treated as --random name
// when its declared shape is fully static; a declared shape with a symbolic dim (e.g. "batch") is an error that
// asks for --random name=D0,... (or --input).
//
// Random numbers (reproducible anywhere): element k (0-based, C order) of every --random tensor is
//   z = seed + (k + 1) * 0x9E3779B97F4A7C15  (mod 2^64)
//   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB; z = z ^ (z >> 31)
//   value = float(z >> 40) / 2^24          (exactly representable in f32, in [0, 1))
// i.e. the k-th output of SplitMix64 started at state `seed` (default 0). Every random input uses the same stream.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ortDir = process.env.EDGEC_ORT_DIR || path.resolve(here, '../../.cache/peers/onnxruntime');

function die(message, code = 2) {
  process.stderr.write(`ort_bench: ${message}\n`);
  process.exit(code);
}

const USAGE =
  'usage: ort_bench.mjs MODEL.onnx [--input name=FILE.npy]... [--random name[=D0,D1,...]]... [--seed S] ' +
  '[--threads N] [--spin on|off] [--warmup W] [--runs R] [--output-dir DIR] [--save-inputs DIR]';

function parseArgs(argv) {
  const opts = { model: null, inputs: [], randoms: [], seed: 0n, threads: 1, spin: 'on', warmup: 3, runs: 20,
                 outputDir: null, saveInputs: null };
  const int = (flag, text, min) => {
    if (!/^\d+$/.test(text ?? '')) die(`${flag} needs a whole number, got ${text}\n${USAGE}`);
    const v = Number(text);
    if (v < min) die(`${flag} must be at least ${min}`);
    return v;
  };
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) die(`${arg} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (arg === '--input') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq <= 0) die(`--input wants name=FILE.npy, got ${v}`);
      opts.inputs.push({ name: v.slice(0, eq), file: v.slice(eq + 1) });
    } else if (arg === '--random') {
      const v = value();
      const eq = v.indexOf('=');
      const name = eq < 0 ? v : v.slice(0, eq);
      if (!name) die(`--random wants name or name=D0,D1,..., got ${v}`);
      let dims = null;
      if (eq >= 0) {
        dims = v.slice(eq + 1).split(',').map((d) => {
          if (!/^\d+$/.test(d)) die(`--random ${v}: dims must be whole numbers separated by commas`);
          return Number(d);
        });
      }
      opts.randoms.push({ name, dims });
    } else if (arg === '--seed') {
      const v = value();
      if (!/^\d+$/.test(v)) die(`--seed needs a whole number, got ${v}`);
      opts.seed = BigInt.asUintN(64, BigInt(v));
    } else if (arg === '--threads') opts.threads = int(arg, value(), 1);
    else if (arg === '--spin') {
      opts.spin = value();
      if (opts.spin !== 'on' && opts.spin !== 'off') die(`--spin wants on or off, got ${opts.spin}`);
    } else if (arg === '--warmup') opts.warmup = int(arg, value(), 0);
    else if (arg === '--runs') opts.runs = int(arg, value(), 1);
    else if (arg === '--output-dir') opts.outputDir = value();
    else if (arg === '--save-inputs') opts.saveInputs = value();
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else if (arg.startsWith('--')) die(`unknown option ${arg}\n${USAGE}`);
    else if (opts.model === null) opts.model = arg;
    else die(`unexpected argument ${arg}\n${USAGE}`);
  }
  if (opts.model === null) die(USAGE);
  return opts;
}

// ---- .npy ----

const NPY_TYPES = {
  '<f4': { type: 'float32', Array: Float32Array },
  '<i8': { type: 'int64', Array: BigInt64Array },
  '<i4': { type: 'int32', Array: Int32Array },
  '|u1': { type: 'uint8', Array: Uint8Array },
  '<u1': { type: 'uint8', Array: Uint8Array },
  '|i1': { type: 'int8', Array: Int8Array },
};

function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    die(`cannot read ${file}: ${e.message}`);
  }
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') die(`${file}: not a .npy file`);
  const major = buf[6];
  let headerLen, start;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    headerLen = buf.readUInt32LE(8);
    start = 12;
  } else die(`${file}: unsupported .npy version ${major}`);
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) die(`${file}: cannot parse the .npy header ${header.trim()}`);
  if (fortran === 'True') die(`${file}: Fortran-order arrays are not supported (save it C-contiguous)`);
  const kind = NPY_TYPES[descr];
  if (!kind) die(`${file}: dtype ${descr} is not supported (f32, i64, i32, u8 or i8, little-endian)`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const bytes = count * kind.Array.BYTES_PER_ELEMENT;
  if (buf.length - offset !== bytes) die(`${file}: ${buf.length - offset} data bytes, expected ${bytes} for ${descr} [${dims}]`);
  // Copy into a fresh, aligned ArrayBuffer.
  const data = new kind.Array(count);
  new Uint8Array(data.buffer).set(buf.subarray(offset, offset + bytes));
  return { type: kind.type, dims, data };
}

function writeNpyF32(file, dims, values) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head[0] = 0x93;
  head.write('NUMPY', 1, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = values instanceof Float32Array ? values : Float32Array.from(values, Number);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'),
                                        Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

// ---- SplitMix64 uniform f32 ----

function randomUniform(count, seed) {
  const M = (1n << 64n) - 1n;
  const out = new Float32Array(count);
  let state = seed;
  for (let k = 0; k < count; ++k) {
    state = (state + 0x9e3779b97f4a7c15n) & M;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    z ^= z >> 31n;
    out[k] = Number(z >> 40n) / 16777216;
  }
  return out;
}

// ---- statistics ----

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
const safeName = (name) => name.replace(/[^A-Za-z0-9._-]/g, '_');
const round3 = (x) => Math.round(x * 1000) / 1000;

// ---- main ----

const opts = parseArgs(process.argv.slice(2));
if (!fs.existsSync(opts.model)) die(`${opts.model}: no such file`);
let ort;
try {
  ort = createRequire(path.join(ortDir, 'package.json'))('onnxruntime-node');
} catch (e) {
  die(`cannot load onnxruntime-node from ${ortDir} (run bench/peers/onnxruntime.sh setup): ${e.message}`);
}

const sessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: opts.threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  // Flattened by the Node binding into the session config entry session.intra_op.allow_spinning.
  extra: { session: { intra_op: { allow_spinning: opts.spin === 'on' ? '1' : '0' } } },
};

const createStart = process.hrtime.bigint();
let session;
try {
  session = await ort.InferenceSession.create(opts.model, sessionOptions);
} catch (e) {
  die(`${opts.model}: session creation failed: ${e.message}`, 1);
}
const sessionCreateMs = Number(process.hrtime.bigint() - createStart) / 1e6;

const declared = new Map((session.inputMetadata ?? []).map((m) => [m.name, m]));
const known = new Set(session.inputNames);
for (const o of [...opts.inputs, ...opts.randoms])
  if (!known.has(o.name)) die(`${opts.model} has no input named ${o.name} (inputs: ${session.inputNames.join(', ')})`);

const feeds = {};
const inputReport = [];
for (const name of session.inputNames) {
  const meta = declared.get(name);
  const fromFile = opts.inputs.find((o) => o.name === name);
  let random = opts.randoms.find((o) => o.name === name);
  if (fromFile && random) die(`input ${name} is given both by --input and --random`);
  if (fromFile) {
    const t = readNpy(fromFile.file);
    if (meta?.type && meta.type !== t.type) die(`input ${name}: the model wants ${meta.type}, ${fromFile.file} holds ${t.type}`);
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    inputReport.push({ name, type: t.type, shape: t.dims, source: fromFile.file });
    continue;
  }
  const shape = meta?.shape ?? [];
  if (!random) random = { name, dims: null };
  let dims = random.dims;
  if (dims === null) {
    if (!meta || !shape.every((d) => typeof d === 'number' && d >= 0))
      die(`input ${name} has the declared shape [${shape.join(',')}] with symbolic dims: ` +
          `pass --random ${name}=D0,D1,... or --input ${name}=FILE.npy`);
    dims = shape;
  } else if (meta && shape.length && shape.length !== dims.length) {
    die(`input ${name}: --random gives ${dims.length} dims, the model declares [${shape.join(',')}]`);
  } else if (meta) {
    shape.forEach((d, i) => {
      if (typeof d === 'number' && d !== dims[i]) die(`input ${name}: dim ${i} is ${d} in the model, --random gives ${dims[i]}`);
    });
  }
  if (meta?.type && meta.type !== 'float32') die(`input ${name} is ${meta.type}: --random makes only float32; use --input`);
  const count = dims.reduce((a, b) => a * b, 1);
  const values = randomUniform(count, opts.seed);
  feeds[name] = new ort.Tensor('float32', values, dims);
  const entry = { name, type: 'float32', shape: dims, source: `random splitmix64 seed ${opts.seed}` };
  if (opts.saveInputs) {
    fs.mkdirSync(opts.saveInputs, { recursive: true });
    entry.file = path.join(opts.saveInputs, safeName(name) + '.npy');
    writeNpyF32(entry.file, dims, values);
  }
  inputReport.push(entry);
}

let outputs;
const latencies = [];
const cpuStart = process.cpuUsage();
try {
  for (let i = 0; i < opts.warmup + opts.runs; ++i) {
    const start = process.hrtime.bigint();
    outputs = await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= opts.warmup) latencies.push(ms);
  }
} catch (e) {
  die(`${opts.model}: run failed: ${e.message}`, 1);
}
const cpu = process.cpuUsage(cpuStart);

const outputReport = [];
if (opts.outputDir) fs.mkdirSync(opts.outputDir, { recursive: true });
for (const name of session.outputNames) {
  const t = outputs[name];
  const entry = { name, type: t.type, shape: t.dims };
  if (opts.outputDir) {
    const file = path.join(opts.outputDir, safeName(name) + '.npy');
    writeNpyF32(file, t.dims, t.data);
    entry.file = file;
  }
  outputReport.push(entry);
}

const sorted = [...latencies].sort((a, b) => a - b);
const result = {
  peer: 'onnxruntime',
  ort_version: ort.env.versions?.node ?? null,
  node_version: process.version,
  model: path.resolve(opts.model),
  threads: opts.threads,
  inter_op_threads: 1,
  spin: opts.spin,
  execution_mode: 'sequential',
  graph_optimization_level: 'all',
  hardware_threads: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
  warmup: opts.warmup,
  runs: opts.runs,
  session_create_ms: round3(sessionCreateMs),
  latencies_ms: latencies.map(round3),
  median_ms: round3(median(sorted)),
  min_ms: round3(sorted[0]),
  p90_ms: round3(percentile(sorted, 0.9)),
  max_ms: round3(sorted[sorted.length - 1]),
  // Process CPU time (user + system, all threads) per run, warm-up runs included: about threads x latency when the
  // pool is busy or spinning, less with --spin off when its threads sleep between parallel sections.
  cpu_ms_per_run: round3((cpu.user + cpu.system) / 1000 / (opts.warmup + opts.runs)),
  inputs: inputReport,
  outputs: outputReport,
};
process.stdout.write(JSON.stringify(result) + '\n');
