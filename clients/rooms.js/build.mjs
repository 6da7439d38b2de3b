// Bundles src/ and the pinned @microsoft/signalr into dist/rooms.js, the single file the front end serves
// at /rooms.js (checked in). `node build.mjs --check` builds in memory and fails when the checked-in file
// differs from a fresh build: CI runs it, so the served script is always the one these sources make.
import { build } from 'esbuild';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist', 'rooms.js');
const check = process.argv.includes('--check');
const { version } = JSON.parse(await readFile(path.join(here, 'node_modules', '@microsoft', 'signalr', 'package.json'), 'utf8'));

const result = await build({
  entryPoints: [path.join(here, 'src', 'index.js')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  legalComments: 'eof',
  banner: { js: `/* rooms.js: the sails.io.js API for Orleans.Rooms, over @microsoft/signalr ${version} (MIT). Built by clients/rooms.js/build.mjs; do not edit. */` },
  write: false,
  // The official client reaches for node-only packages with require() when it runs in node; in this single
  // script there are none, so `require` is left undefined and the client takes what src/ hands it instead.
  define: { require: 'undefined' },
  logLevel: 'warning',
});
const fresh = result.outputFiles[0].text;

if (check) {
  const current = await readFile(out, 'utf8').catch(() => '');
  if (current !== fresh) {
    console.error(`${path.relative(process.cwd(), out)} is not what the sources build: run \`npm run build\` in clients/rooms.js and commit it.`);
    process.exit(1);
  }

  console.log(`${path.relative(process.cwd(), out)} matches a fresh build (${fresh.length} bytes).`);
} else {
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, fresh);
  console.log(`wrote ${path.relative(process.cwd(), out)} (${fresh.length} bytes)`);
}
