/**
 * The part of bun's `bun:ffi` module ./socket.ts uses (bun's own typings are not a dependency: the rest of the
 * project compiles for Node.js). Pointers are numbers; `cstring` returns are string-like objects.
 */
declare module 'bun:ffi' {
  export type Pointer = number;
  export interface FfiSignature {
    readonly args: readonly string[];
    readonly returns: string;
  }
  export function dlopen<S extends Record<string, FfiSignature>>(lib: string, symbols: S): { readonly symbols: { readonly [K in keyof S]: (...args: never[]) => unknown } };
  export function ptr(buf: Uint8Array): Pointer;
  export const read: { i32(p: Pointer, offset?: number): number };
}
