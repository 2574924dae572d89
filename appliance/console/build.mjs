// build.mjs — bundles the console into <outdir>: index.html, console.js (+ map), console.css.
// Usage: node build.mjs <outdir>   (npm run build -> dist/)
import * as esbuild from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, 'dist'));
await mkdir(out, { recursive: true });

const common = { bundle: true, minify: true, sourcemap: true, legalComments: 'eof', logLevel: 'info' };
await esbuild.build({
  ...common,
  entryPoints: [join(here, 'src/main.js')],
  outfile: join(out, 'console.js'),
  format: 'iife',            // classic script: also works from file:// and old proxies
  target: ['es2020'],
  platform: 'browser',
});
await esbuild.build({
  ...common,
  entryPoints: [join(here, 'src/console.css')],
  outfile: join(out, 'console.css'),
  target: ['chrome100', 'firefox100', 'safari15'],
});
await copyFile(join(here, 'src/index.html'), join(out, 'index.html'));
console.log(`console built into ${out}`);
