import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTapPeer } from '@vnic/sys/testing';

// The published shape, end to end: every public package packed (pnpm pack applies publishConfig),
// the tarballs installed with npm into a fresh directory outside the repository, then used with
// plain node (no loader, no tsx) and compiled against with tsc as a TypeScript consumer would.
// Needs `pnpm build` first (scripts/test.sh runs it before this stage).

const repo = fileURLToPath(new URL('../../', import.meta.url));
const publicPackages = readdirSync(join(repo, 'packages'))
  .map((dir) => ({ dir: join(repo, 'packages', dir), pkg: JSON.parse(readFileSync(join(repo, 'packages', dir, 'package.json'), 'utf8')) as PackageJson }))
  .filter((p) => p.pkg.private !== true);

interface PackageJson {
  readonly name: string;
  readonly private?: boolean;
  readonly exports: Record<string, unknown>;
}

const peer = hostTapPeer(); // root, /dev/net/tun, ip netns: skip off CI, fail on CI

function run(cmd: string, args: readonly string[], cwd: string, timeout = 300_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe.skipIf(peer.skip)('pack and install: the published packages work with plain node and tsc', () => {
  let packDir: string;
  let app: string;
  const tarballs = new Map<string, string>();

  beforeAll(() => {
    if (peer.reason !== undefined) throw new Error(`pack-and-install needs root with taps and namespaces: ${peer.reason}`);
    const unbuilt = publicPackages.filter((p) => !existsSync(join(p.dir, 'dist/index.js'))).map((p) => p.pkg.name);
    if (unbuilt.length > 0) throw new Error(`not built: ${unbuilt.join(', ')}: run \`pnpm build\` before this test (scripts/test.sh does)`);
    packDir = mkdtempSync(join(tmpdir(), 'vnic-pack-'));
    for (const p of publicPackages) {
      const out = run('pnpm', ['pack', '--pack-destination', packDir], p.dir).trim().split('\n').pop()!;
      tarballs.set(p.pkg.name, out.startsWith('/') ? out : join(packDir, out));
    }
    app = mkdtempSync(join(tmpdir(), 'vnic-app-'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'vnic-pack-consumer', private: true, type: 'module' }));
    run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs.values(), 'inversify@^8.2.0', 'reflect-metadata@^0.2.2', '@types/node@^20.19.0'],
      app,
      600_000,
    );
  }, 900_000);

  afterAll(() => {
    if (packDir !== undefined) rmSync(packDir, { recursive: true, force: true });
    if (app !== undefined) rmSync(app, { recursive: true, force: true });
  });

  it('every tarball ships dist (index.js, index.d.ts), LICENSE and README, no .ts source, no spec, no test fixture', () => {
    for (const p of publicPackages) {
      const files = execFileSync('tar', ['tzf', tarballs.get(p.pkg.name)!], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((f) => f.replace(/^package\//, ''));
      const sources = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
      expect(sources, `${p.pkg.name}: TypeScript sources in the tarball`).toEqual([]);
      expect(
        files.filter((f) => /\.(spec|test)\.|\/fixtures\//.test(f)),
        `${p.pkg.name}: specs or fixtures in the tarball`,
      ).toEqual([]);
      for (const f of ['dist/index.js', 'dist/index.d.ts', 'LICENSE', 'README.md', 'package.json']) expect(files, `${p.pkg.name}: ${f}`).toContain(f);
      if (p.pkg.name === '@vnic/virtio-net') expect(files).toContain('dist/ioWorker.js');
      if (p.pkg.name === '@vnic/cli') for (const f of ['bin/vnic.js', 'dist/main.js', 'config/vm-config.json']) expect(files).toContain(f);
      const packed = JSON.parse(execFileSync('tar', ['xzOf', tarballs.get(p.pkg.name)!, 'package/package.json'], { encoding: 'utf8' })) as PackageJson & {
        dependencies?: Record<string, string>;
      };
      for (const [sub, target] of Object.entries(packed.exports)) {
        if (sub === './package.json') continue;
        expect(Object.keys(target as object), `${p.pkg.name} exports["${sub}"]`).toEqual(['types', 'default']);
        expect(JSON.stringify(target)).not.toContain('/src/');
      }
      for (const dep of Object.keys(packed.dependencies ?? {}))
        expect(['@vnic/testvm', 'tsx', 'esbuild'], `${p.pkg.name} runtime dependency`).not.toContain(dep);
    }
  });

  it('plain node imports every exported subpath of every package', () => {
    const specifiers = publicPackages.flatMap((p) =>
      Object.keys(p.pkg.exports)
        .filter((s) => s !== './package.json')
        .map((s) => p.pkg.name + s.slice(1)),
    );
    const script = `for (const s of ${JSON.stringify(specifiers)}) { const m = await import(s); if (Object.keys(m).length === 0) throw new Error(s + ' exports nothing'); } console.log('imported ' + ${specifiers.length});`;
    expect(run(process.execPath, ['--input-type=module', '-e', script], app).trim()).toBe(`imported ${specifiers.length}`);
  });

  it('the README quick start runs with plain node: a NIC on a tap, frames both ways, closed, no fd left', () => {
    const quickstart = readFileSync(join(repo, 'examples/quickstart/quickstart.mjs'), 'utf8');
    expect(readFileSync(join(repo, 'README.md'), 'utf8'), 'README quick start is a copy of examples/quickstart/quickstart.mjs').toContain(
      `\`\`\`js\n${quickstart}\`\`\`\n`,
    );
    writeFileSync(join(app, 'quickstart.mjs'), quickstart);
    const out = run(process.execPath, ['quickstart.mjs'], app, 120_000);
    expect(out).toContain('guest -> tap: 78 bytes, payload intact');
    expect(out).toContain('tap -> guest: 78 bytes, payload intact');
    expect(out).toContain('closed: no fd left');
  }, 180_000);

  it('npx vnic check-config, serve --help and demo run from the installed bin', () => {
    writeFileSync(
      join(app, 'vm.json'),
      JSON.stringify({ net: [{ id: 'n0', backend: 'virtio-net', mac: '52:54:00:00:00:07', 'virtio-net': { tap: 'vnic-n0' } }] }),
    );
    expect(run('npx', ['--no-install', 'vnic', 'check-config', 'vm.json'], app)).toContain('vm.json is valid: 1 NIC');
    const bad = spawnSync('npx', ['--no-install', 'vnic', 'check-config', 'missing.json'], { cwd: app, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(run('npx', ['--no-install', 'vnic', 'serve', '--help'], app)).toContain('--socket');
    const demo = run('npx', ['--no-install', 'vnic', 'demo', '--pings', '2'], app, 180_000);
    expect(demo).toMatch(/seq 2: reply in/);
    expect(demo).toContain(', 0 lost');
    expect(demo).toMatch(/cleaned up .*device closed/);
  }, 300_000);

  it('tsc --noEmit of a TypeScript consumer: zero errors under node16 and bundler, types are real', () => {
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    mkdirSync(join(app, 'consumer'), { recursive: true });
    for (const f of ['app.ts', 'tsconfig.node16.json', 'tsconfig.bundler.json']) copyFileSync(join(repo, 'test/pack/consumer', f), join(app, 'consumer', f));
    for (const mode of ['node16', 'bundler']) {
      const r = spawnSync(process.execPath, [tsc, '-p', `consumer/tsconfig.${mode}.json`], { cwd: app, encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`, `tsc (${mode})`).toBe('');
      expect(r.status, `tsc (${mode})`).toBe(0);
    }
    // The @ts-expect-error line is load-bearing: without it the same file must fail to compile.
    writeFileSync(join(app, 'consumer/app.ts'), readFileSync(join(app, 'consumer/app.ts'), 'utf8').replace('// @ts-expect-error', '//'));
    const r = spawnSync(process.execPath, [tsc, '-p', 'consumer/tsconfig.node16.json'], { cwd: app, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/app\.ts\(19,\d+\): error TS2322/);
  }, 300_000);
});
