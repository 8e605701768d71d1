import type { Linter } from 'eslint';

/** The layering rules of src/** as flat-config blocks (see layering.js). */
export declare const layering: Linter.Config[];
