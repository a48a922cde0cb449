/** A container's files from the host: mounts over the staged image, and the mapping loaded the way the container reads it. */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { containerFiles, hostPathOf, loadMappingAsContainer, mappingForHost, type HostPath } from './container-files.js';
import { testTempDir } from './test-run.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('hostPathOf', () => {
  const mounts = [
    { target: '/config', host: '/host/config' },
    { target: '/config/secrets', host: '/host/secrets' },
  ];

  it('takes a path from the deepest mount that covers it', () => {
    expect(hostPathOf(mounts, '/img', '/config/config.yaml')).toBe('/host/config/config.yaml');
    expect(hostPathOf(mounts, '/img', '/config/secrets/password')).toBe('/host/secrets/password');
    expect(hostPathOf(mounts, '/img', '/config')).toBe('/host/config');
  });

  it('takes any other path from the image, a folder that merely starts like a mount included', () => {
    expect(hostPathOf(mounts, '/img', '/app/dist/main.js')).toBe('/img/app/dist/main.js');
    expect(hostPathOf(mounts, '/img', '/configuration/x')).toBe('/img/configuration/x');
  });
});

describe('containerFiles', () => {
  let root = '';
  beforeAll(async () => {
    root = await testTempDir('container-files');
    await mkdir(join(root, 'image/app'), { recursive: true });
    await mkdir(join(root, 'image/config'), { recursive: true });
    await mkdir(join(root, 'mounted'), { recursive: true });
    await writeFile(join(root, 'image/app/main.js'), '');
    await writeFile(join(root, 'image/config/baked.yaml'), '');
    await writeFile(join(root, 'mounted/config.yaml'), '');
  });

  it('finds files of the image and of the mount, and nothing the mount hides', () => {
    const files = containerFiles([{ target: '/config', host: join(root, 'mounted') }], join(root, 'image'));
    expect(files('/app/main.js')).toBe(join(root, 'image/app/main.js'));
    expect(files('/config/config.yaml')).toBe(join(root, 'mounted/config.yaml'));
    expect(files('/config/baked.yaml')).toBeUndefined();
    expect(files('/app/missing.js')).toBeUndefined();
  });
});

describe('mappingForHost', () => {
  const MAPPING = [
    '# kept',
    'version: 1',
    'mappings:',
    '  - topic: a',
    '    schema: ../schemas/a.avsc',
    '  - topic: b',
    '    schema: /opt/schemas/b.avsc',
    '  - topic: c',
  ].join('\n');
  const known: Record<string, string> = { '/app/schemas/a.avsc': '/host/a.avsc', '/opt/schemas/b.avsc': '/host/b.avsc' };
  const files: HostPath = (p) => known[p];

  it('resolves schema paths against the mapping in container terms and swaps in their host files', () => {
    const text = mappingForHost(MAPPING, '/app/examples/mapping.yaml', files);
    expect((parse(text) as { mappings: { schema?: string }[] }).mappings.map((m) => m.schema)).toEqual(['/host/a.avsc', '/host/b.avsc', undefined]);
    expect(text).toContain('# kept');
  });

  it('names the mapping entry whose schema the container lacks', () => {
    expect(() => mappingForHost(MAPPING, '/config/mapping.yaml', files)).toThrow(
      '/config/mapping.yaml mappings[0].schema: /schemas/a.avsc is not in the container',
    );
  });

  it('names the file when it has no mappings list', () => {
    expect(() => mappingForHost('version: 1', '/config/mapping.yaml', files)).toThrow('/config/mapping.yaml: mappings: expected a list');
  });
});

describe('loadMappingAsContainer', () => {
  let scratch = '';
  let image = '';
  beforeAll(async () => {
    scratch = await testTempDir('container-mapping');
    image = join(scratch, 'image');
    await mkdir(join(image, 'app'), { recursive: true });
    await symlink(join(repoRoot, 'schemas'), join(image, 'app/schemas'), 'dir');
  });

  it('loads the example mapping with the real loader when the image has its schemas', async () => {
    const files = containerFiles([{ target: '/app/examples', host: join(repoRoot, 'examples') }], image);
    expect(await loadMappingAsContainer('/app/examples/mapping.yaml', files, scratch)).toContain('crm.customer.updated');
  });

  it('fails when the container lacks the mapping or a schema it names', async () => {
    const elsewhere = containerFiles([{ target: '/srv/examples', host: join(repoRoot, 'examples') }], image);
    await expect(loadMappingAsContainer('/app/examples/mapping.yaml', elsewhere, scratch)).rejects.toThrow(
      '/app/examples/mapping.yaml is neither mounted nor in the image',
    );
    await expect(loadMappingAsContainer('/srv/examples/mapping.yaml', elsewhere, scratch)).rejects.toThrow(
      /mappings\[0\]\.schema: \/srv\/schemas\/\S+ is not in the container/,
    );
  });
});
