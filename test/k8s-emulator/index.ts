export { KubeEmulator, startKubeEmulator } from './emulator.js';
export type { EmulatorOptions, FailureRule, RequestRecord } from './emulator.js';
export { EMULATOR_TOKEN, kubeconfigText } from './kubeconfig.js';
export type { KubeObject } from './object.js';
export type { GoneMode } from './watch.js';
export { FAST_TIMING, emulatedKubeApi, node, pod } from './testing.js';
