// The package (repository) root, found from this module's place in dist/src/util/: what ships beside the code
// (models/, web/dist, dist/browser) is looked up from here.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/src/util/ -> ../../.. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
