// Which native binding a bundle must carry for the machine it will run on. A bundle is built on one machine
// (the Dockerfile's build stage, a developer's laptop) and may run on another: the target names the one it
// runs on, and the binding shipped beside index.js must be that target's, found at bundle time — a binding
// missing at start is a function that cannot start.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Libc = 'gnu' | 'musl';

/** An os/arch/libc as Node names them (process.platform, process.arch); libc only for linux. */
export interface BundleTarget {
  platform: string;
  arch: string;
  libc?: Libc;
}

/** Docker's architecture names (TARGETARCH) → Node's. */
const DOCKER_ARCH: Record<string, string> = { amd64: 'x64', '386': 'ia32' };
const LIBC: Record<string, Libc> = { gnu: 'gnu', glibc: 'gnu', musl: 'musl' };

export const TARGET_FORM = '<os>/<arch>[/<libc>] (e.g. linux/arm64/musl, linux/amd64/gnu, darwin/arm64)';

/** The machine running this: glibc or musl as resvg itself tells them apart (process.report). */
export function hostTarget(): BundleTarget {
  if (process.platform !== 'linux') return { platform: process.platform, arch: process.arch };
  const { header } = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
  return { platform: 'linux', arch: process.arch, libc: header.glibcVersionRuntime ? 'gnu' : 'musl' };
}

export function formatTarget(target: BundleTarget): string {
  return [target.platform, target.arch, target.libc].filter(Boolean).join('/');
}

/** Parses `<os>/<arch>[/<libc>]`; arch may be Docker's name (amd64). linux needs its libc. */
export function parseTarget(raw: string): BundleTarget {
  const [platform, dockerArch, libcName, ...rest] = raw.trim().split('/');
  if (!platform || !dockerArch || rest.length > 0) {
    throw new Error(`bundle target "${raw}" is not valid: expected ${TARGET_FORM}`);
  }
  const arch = DOCKER_ARCH[dockerArch] ?? dockerArch;
  if (libcName === undefined) {
    if (platform === 'linux') {
      throw new Error(
        `bundle target "${raw}" names no libc, and linux builds differ by it: add it, e.g. linux/${dockerArch}/musl (alpine) or linux/${dockerArch}/gnu`,
      );
    }
    return { platform, arch };
  }
  const libc = LIBC[libcName];
  if (!libc) throw new Error(`bundle target "${raw}": libc "${libcName}" is not valid: expected gnu or musl`);
  return { platform, arch, libc };
}

/** resvg's name for a target (its package suffix and .node file), as its js-binding.js looks them up. */
function resvgTriple({ platform, arch, libc }: BundleTarget): string | undefined {
  if (platform === 'linux') {
    if (arch === 'arm') return 'linux-arm-gnueabihf';
    if (arch === 's390x') return 'linux-s390x-gnu';
    if (['x64', 'arm64', 'riscv64'].includes(arch) && libc) return `linux-${arch}-${libc}`;
  }
  if (platform === 'darwin' && ['x64', 'arm64'].includes(arch)) return `darwin-${arch}`;
  if (platform === 'win32' && ['x64', 'ia32', 'arm64'].includes(arch)) return `win32-${arch}-msvc`;
  if (platform === 'android' && arch === 'arm64') return 'android-arm64';
  if (platform === 'android' && arch === 'arm') return 'android-arm-eabi';
  if (platform === 'freebsd' && arch === 'x64') return 'freebsd-x64';
  return undefined;
}

/** The binding package resvg loads on `target` and the .node file it first looks for beside the bundle. */
export function resvgBinding(target: BundleTarget): { pkg: string; file: string } {
  const triple = resvgTriple(target);
  if (!triple) {
    throw new Error(`@resvg/resvg-js has no build for ${formatTarget(target)}; bundle for another target`);
  }
  return { pkg: `@resvg/resvg-js-${triple}`, file: `resvgjs.${triple}.node` };
}

function versionOf(packageJson: string): string {
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

/**
 * The installed path of `target`'s resvg binding, resolved from `fromDir` as the bundle resolves
 * @resvg/resvg-js. Throws, naming the package and the command that installs it, when it is missing or
 * its version differs from @resvg/resvg-js's.
 */
export function resvgBindingPath(fromDir: string, target: BundleTarget): string {
  const { pkg, file } = resvgBinding(target);
  const resvgJson = createRequire(join(fromDir, 'noop.js')).resolve('@resvg/resvg-js/package.json');
  const version = versionOf(resvgJson);
  let bindingJson: string | undefined;
  try {
    bindingJson = createRequire(resvgJson).resolve(`${pkg}/package.json`);
  } catch {
    bindingJson = undefined;
  }
  const path = bindingJson && join(dirname(bindingJson), file);
  if (!bindingJson || !path || !existsSync(path)) {
    // npm refuses a package of another platform by name (EBADPLATFORM) unless forced.
    throw new Error(
      `the bundle renders with resvg, but ${pkg} (its native binding for ${formatTarget(target)}) is not installed ` +
        `under ${fromDir}: bundle on a ${formatTarget(target)} machine (the Dockerfile's build stage runs on the ` +
        `image's platform), or install it first: npm install --no-save --force ${pkg}@${version}`,
    );
  }
  const installed = versionOf(bindingJson);
  if (installed !== version) {
    throw new Error(
      `${pkg} ${installed} is installed but @resvg/resvg-js is ${version}: install ${pkg}@${version}`,
    );
  }
  return path;
}
