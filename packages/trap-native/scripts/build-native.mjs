// Builds the native parts (binding.gyp: the addon and the stub) from source with node-gyp,
// against the headers of the Node that runs this script; nothing is downloaded.
// The header directory is TSVISOR_NODEDIR if set, else the prefix of this Node (/usr on Debian).
//
// node-gyp rebuild starts by deleting its build directory, so it runs on a copy of the sources in
// build/staging-<pid>; the finished addon and stub are then renamed into build/Release. A sandbox
// started while a build runs keeps loading the previous files instead of failing with "not built".
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
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
const staging = join(pkg, 'build', `staging-${process.pid}`);
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
let status = 1;
try {
  copyFileSync(join(pkg, 'binding.gyp'), join(staging, 'binding.gyp'));
  cpSync(join(pkg, 'native'), join(staging, 'native'), { recursive: true });
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], {
    cwd: staging,
    stdio: 'inherit',
  });
  status = r.status ?? 1;
  if (status === 0) {
    const out = join(pkg, 'build', 'Release');
    mkdirSync(out, { recursive: true });
    for (const name of ['trap_native.node', 'tsvisor-stub']) {
      // Copy next to the target, then rename over it: the swap is atomic for a concurrent loader.
      const tmp = join(out, `.${name}.${process.pid}`);
      copyFileSync(join(staging, 'build', 'Release', name), tmp);
      renameSync(tmp, join(out, name));
    }
  }
} finally {
  rmSync(staging, { recursive: true, force: true });
}
process.exit(status);
