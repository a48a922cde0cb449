/**
 * A container's files seen from the host, without a container: a path under a mount comes from the
 * mounted host folder, any other from the staged image (image-stage.ts). With it the real mapping
 * loader reads a mapping the way the container would, reader schemas included.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { parseDocument } from 'yaml';
import { loadMapping } from '../../connector/adapters/mapping-file/load.js';
import { asList, asMapping } from './manifest.js';

/** Maps a container path to the host file it is, or undefined when the container has no such file. */
export type HostPath = (containerPath: string) => string | undefined;

/** A host folder or file mounted at `target` in the container. */
export interface HostMount {
  target: string;
  host: string;
}

/** The host path that would hold `containerPath`: under the deepest mount covering it, else under the staged image. */
export function hostPathOf(mounts: HostMount[], imageRoot: string, containerPath: string): string {
  const mount = mounts
    .filter((m) => containerPath === m.target || containerPath.startsWith(`${m.target}/`))
    .sort((a, b) => b.target.length - a.target.length)[0];
  // A mount hides what the image has at its target, so a file missing there is missing.
  return mount ? posix.join(mount.host, containerPath.slice(mount.target.length)) : posix.join(imageRoot, containerPath);
}

/** The files of a container made of the staged image at `imageRoot` and `mounts`. */
export function containerFiles(mounts: HostMount[], imageRoot: string): HostPath {
  return (containerPath) => {
    const path = hostPathOf(mounts, imageRoot, containerPath);
    return existsSync(path) ? path : undefined;
  };
}

/** The mapping text with each reader schema path swapped for the host file the container would read; throws naming a schema it lacks. */
export function mappingForHost(source: string, containerFile: string, files: HostPath): string {
  const doc = parseDocument(source);
  const mappings = asList(asMapping(doc.toJS(), containerFile).mappings, `${containerFile}: mappings`);
  mappings.forEach((m, i) => {
    const schema = asMapping(m, `${containerFile}: mappings[${i}]`).schema;
    if (typeof schema !== 'string') return;
    const inContainer = posix.resolve(posix.dirname(containerFile), schema);
    const schemaFile = files(inContainer);
    if (schemaFile === undefined) throw new Error(`${containerFile} mappings[${i}].schema: ${inContainer} is not in the container`);
    doc.setIn(['mappings', i, 'schema'], schemaFile);
  });
  return doc.toString();
}

/** Loads the mapping at `containerFile` with the real loader as the container would, from a copy under `scratch`; returns its topics. */
export async function loadMappingAsContainer(containerFile: string, files: HostPath, scratch: string): Promise<string[]> {
  const hostFile = files(containerFile);
  if (hostFile === undefined) throw new Error(`${containerFile} is neither mounted nor in the image`);
  const copy = join(await mkdtemp(join(scratch, 'mapping-')), posix.basename(containerFile));
  await writeFile(copy, mappingForHost(await readFile(hostFile, 'utf8'), containerFile, files));
  return (await loadMapping(copy)).topics;
}
