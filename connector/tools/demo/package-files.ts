/** Locates files shipped in the package (scripts, schemas, examples) from the sources and from dist/. */
import { dirname, join } from 'node:path';
import { SPEC_PATH } from '../../adapters/config/spec.js';

// spec.json sits at the package root, and its module already finds that root for tsx and dist alike.
const PACKAGE_ROOT = dirname(SPEC_PATH);

/** Absolute path of a file given relative to the package root, e.g. `scripts/kafka.sh`. */
export function packageFile(relative: string): string {
  return join(PACKAGE_ROOT, relative);
}
