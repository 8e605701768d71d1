/** Types of ./import-graph.js (see there). */
export interface ImportRef {
  readonly specifier: string;
  /** Erased from the JavaScript (`import type`, `export type … from`, `import('x').T`). */
  readonly typeOnly: boolean;
  /** An `import()` call. */
  readonly dynamic: boolean;
  readonly line: number;
}

export interface ImportEdge extends ImportRef {
  /** The local file a relative specifier names (absolute path). */
  readonly target: string | undefined;
}

export interface Reachable {
  /** Absolute paths, the entry first. */
  readonly files: readonly string[];
  /** Non-relative specifier → the files importing it. */
  readonly external: ReadonlyMap<string, readonly string[]>;
  /** `file: specifier` for relative specifiers that name no file. */
  readonly unresolved: readonly string[];
}

export declare function importsOf(fileName: string, text: string): ImportRef[];
export declare function resolveLocal(fromFile: string, specifier: string): string | undefined;
export declare function edgesOf(file: string): readonly ImportEdge[];
export declare function edgesOfText(file: string, text: string): ImportEdge[];
export declare function reachableFrom(entry: string, opts?: { readonly runtimeOnly?: boolean; readonly staticOnly?: boolean }): Reachable;
export declare function shortestPath(from: string, to: string, root: string, firstEdges: readonly ImportEdge[]): string[] | undefined;
export declare function sourceFiles(dir: string): string[];
export declare function topFolder(root: string, file: string): string;
/** folder → (folder it imports → one witness import `[from, to]`). */
export type FolderGraph = Map<string, Map<string, readonly [string, string]>>;
export declare function folderGraph(root: string, override?: { readonly file: string; readonly edges: readonly ImportEdge[] }): FolderGraph;
export declare function folderPath(graph: FolderGraph, from: string, to: string): string[] | undefined;
