// Builds the native parts (binding.gyp: the addon and the stub) from source with node-gyp,
// against the headers of the Node that runs this script; nothing is downloaded.
// The header directory is TSVISOR_NODEDIR if set, else the prefix of this Node (/usr on Debian).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nodedir = process.env.TSVISOR_NODEDIR || resolve(dirname(process.execPath), '..');
if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) {
  console.error(`build-native: no Node headers under ${nodedir}/include/node; set TSVISOR_NODEDIR`);
  process.exit(1);
}
const gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], {
  cwd: pkg,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
