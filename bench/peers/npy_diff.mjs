#!/usr/bin/env node
// Compares two .npy files of f32 values (little-endian, C order): prints one JSON line with the shapes, the largest
// absolute difference and the largest |a| (so a caller can judge the difference relative to the values).
// usage: npy_diff.mjs A.npy B.npy
import fs from 'node:fs';

function read(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLength;
  const header = bytes.toString('latin1', major === 1 ? 10 : 12, start);
  if (!header.includes("'<f4'")) throw new Error(`${file}: expected little-endian f32 ('<f4'), header ${header.trim()}`);
  const shape = (header.match(/\(([^)]*)\)/) || ['', ''])[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = (bytes.length - start) / 4;
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + count * 4));
  return { shape, values };
}

const [, , fileA, fileB] = process.argv;
if (!fileA || !fileB) {
  process.stderr.write('usage: npy_diff.mjs A.npy B.npy\n');
  process.exit(2);
}
const a = read(fileA), b = read(fileB);
if (a.values.length !== b.values.length) {
  console.log(JSON.stringify({ same_shape: false, shape_a: a.shape, shape_b: b.shape }));
  process.exit(1);
}
let maxDiff = 0, maxAbs = 0;
for (let i = 0; i < a.values.length; ++i) {
  const d = Math.abs(a.values[i] - b.values[i]);
  if (!(d <= maxDiff)) maxDiff = d;  // NaN counts as the largest
  maxAbs = Math.max(maxAbs, Math.abs(b.values[i]));
}
console.log(JSON.stringify({ same_shape: true, shape: a.shape, elements: a.values.length, max_abs_diff: maxDiff, max_abs_value: maxAbs }));
