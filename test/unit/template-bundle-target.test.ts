// templates/node20-ts/bundle.ts ships the resvg binding of the platform the image runs on, not of the machine
// that bundled it: a linux/arm64 image built by an amd64 stage used to carry resvgjs.linux-x64-*.node, and
// generate-report died at start (`Cannot find module '@resvg/resvg-js-linux-arm64-musl'`).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { copyRuntimeAssets } from '../../templates/node20-ts/bundle.ts';
import { hostTarget, parseTarget, resvgBinding } from '../../templates/node20-ts/native-binding.ts';

const RESVG_INPUT = 'node_modules/@resvg/resvg-js/index.js';

/** A node_modules with @resvg/resvg-js and the given binding packages (fake .node files). */
async function fakeInstall(
  t: { teardown(fn: () => unknown): void },
  bindings: Record<string, string>,
): Promise<{ from: string; out: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hxp-bundle-target-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const scope = join(dir, 'node_modules', '@resvg');
  const pkg = (name: string, version: string, main: string) => JSON.stringify({ name, version, main });
  await mkdir(join(scope, 'resvg-js'), { recursive: true });
  await writeFile(join(scope, 'resvg-js', 'package.json'), pkg('@resvg/resvg-js', '2.6.2', 'index.js'));
  await writeFile(join(scope, 'resvg-js', 'index.js'), '');
  for (const [triple, version] of Object.entries(bindings)) {
    const folder = join(scope, `resvg-js-${triple}`);
    await mkdir(folder, { recursive: true });
    const file = `resvgjs.${triple}.node`;
    await writeFile(join(folder, 'package.json'), pkg(`@resvg/resvg-js-${triple}`, version, file));
    await writeFile(join(folder, file), triple);
  }
  const out = join(dir, 'out');
  await mkdir(out);
  return { from: dir, out };
}

test('parseTarget reads <os>/<arch>[/<libc>] with Docker’s arch names', (t) => {
  t.deepEqual(parseTarget('linux/arm64/musl'), { platform: 'linux', arch: 'arm64', libc: 'musl' });
  t.deepEqual(parseTarget('linux/amd64/musl'), { platform: 'linux', arch: 'x64', libc: 'musl' });
  t.deepEqual(parseTarget('linux/x64/glibc'), { platform: 'linux', arch: 'x64', libc: 'gnu' });
  t.deepEqual(parseTarget('darwin/arm64'), { platform: 'darwin', arch: 'arm64' });
  t.throws(() => parseTarget('linux/arm64'), { message: /libc.*linux\/arm64\/musl/ });
  t.throws(() => parseTarget('arm64'), { message: /"arm64".*<os>\/<arch>/ });
  t.throws(() => parseTarget('linux/arm64/uclibc'), { message: /"uclibc".*gnu or musl/ });
});

test('resvgBinding names the package and file resvg loads for a target', (t) => {
  t.deepEqual(resvgBinding({ platform: 'linux', arch: 'arm64', libc: 'musl' }), {
    pkg: '@resvg/resvg-js-linux-arm64-musl',
    file: 'resvgjs.linux-arm64-musl.node',
  });
  t.is(
    resvgBinding({ platform: 'linux', arch: 'arm', libc: 'gnu' }).pkg,
    '@resvg/resvg-js-linux-arm-gnueabihf',
  );
  t.is(resvgBinding({ platform: 'win32', arch: 'x64' }).file, 'resvgjs.win32-x64-msvc.node');
  t.throws(() => resvgBinding({ platform: 'linux', arch: 'mips', libc: 'gnu' }), {
    message: /no build for linux\/mips/,
  });
  const host = hostTarget();
  t.is(host.platform, process.platform);
  t.is(host.arch, process.arch);
});

test('an arm64 bundle built where only the x64 binding is installed fails at bundle time, naming the fix', async (t) => {
  const { from, out } = await fakeInstall(t, { 'linux-x64-musl': '2.6.2', 'linux-x64-gnu': '2.6.2' });
  const err = await t.throwsAsync(
    copyRuntimeAssets([RESVG_INPUT], from, out, { platform: 'linux', arch: 'arm64', libc: 'musl' }),
  );
  t.regex(err.message, /@resvg\/resvg-js-linux-arm64-musl/);
  t.regex(err.message, /linux\/arm64\/musl/);
  t.regex(err.message, /npm install --no-save --force @resvg\/resvg-js-linux-arm64-musl@2\.6\.2/);
  t.deepEqual(await readdir(out), [], 'no binding of another platform was shipped');
});

test('only the target’s binding is shipped, not every one npm installed', async (t) => {
  const { from, out } = await fakeInstall(t, { 'linux-x64-musl': '2.6.2', 'linux-x64-gnu': '2.6.2' });
  const files = await copyRuntimeAssets([RESVG_INPUT], from, out, {
    platform: 'linux',
    arch: 'x64',
    libc: 'musl',
  });
  t.deepEqual(files, ['resvgjs.linux-x64-musl.node']);
  t.deepEqual(await readdir(out), ['resvgjs.linux-x64-musl.node']);
});

test('a binding of another version than @resvg/resvg-js is refused', async (t) => {
  const { from, out } = await fakeInstall(t, { 'linux-arm64-musl': '2.5.0' });
  await t.throwsAsync(
    copyRuntimeAssets([RESVG_INPUT], from, out, { platform: 'linux', arch: 'arm64', libc: 'musl' }),
    { message: /2\.5\.0.*2\.6\.2/ },
  );
});

test('no resvg in the bundle: no binding needed, whatever the target', async (t) => {
  const { from, out } = await fakeInstall(t, {});
  t.deepEqual(await copyRuntimeAssets([], from, out, { platform: 'linux', arch: 'arm64', libc: 'musl' }), []);
  t.false(existsSync(join(out, 'resvgjs.linux-arm64-musl.node')));
});
