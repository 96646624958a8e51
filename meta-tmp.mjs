import * as esbuild from '/work/wt-start/node_modules/esbuild/lib/main.js';
const entry = process.argv[2];
const r = await esbuild.build({ entryPoints: [entry], outdir: '/tmp/metaout', bundle: true, format: 'cjs', platform: 'node', write: false, metafile: true, packages: 'external', define: { 'import.meta.url': 'x' }, logLevel: 'error' });
const ins = r.metafile.inputs;
const parents = new Map();
for (const [f, i] of Object.entries(ins)) for (const im of i.imports) { if (!parents.has(im.path)) parents.set(im.path, []); parents.get(im.path).push(f); }
// BFS from entry to targets
const target = process.argv[3];
const prev = new Map([[entry, null]]); const q = [entry];
while (q.length) { const f = q.shift(); for (const im of ins[f]?.imports ?? []) { if (!prev.has(im.path)) { prev.set(im.path, f); q.push(im.path); } } }
for (const t of Object.keys(Object.fromEntries(prev)).filter((k) => k.includes(target))) { const chain = []; let c = t; while (c) { chain.push(c); c = prev.get(c); } console.log(chain.reverse().join(' -> ')); }
console.log(Object.keys(ins).filter((f) => !f.includes('node_modules')).length, 'src files');
