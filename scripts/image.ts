/** `bun scripts/image.ts [--tag T] [--base IMAGE]`: builds the terway-hub image with the host's podman (scripts/image-build.ts). */
import { execFileSync } from 'node:child_process';
import { IMAGE_PLUGIN, ROOT, buildImage } from './image-build.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const tag = buildImage((a) => execFileSync('podman', a, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }), { tag: flag('--tag'), base: flag('--base') });
console.log(`image: built ${tag}; its plugin binary is ${IMAGE_PLUGIN}`);
