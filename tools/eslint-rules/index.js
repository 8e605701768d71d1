/** The project's own ESLint rules (plugin `terway`). */
import { noImportCycles } from './no-import-cycles.js';

export const terwayPlugin = { meta: { name: 'terway' }, rules: { 'no-import-cycles': noImportCycles } };
