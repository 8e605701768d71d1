/** Kubelet device plugin (v1beta1) for exclusive-ENI pods. */
export { EniDevicePlugin, ENI_RESOURCE, ENI_SOCKET, type DevicePluginOptions } from './plugin.js';
export { API_VERSION, DEFAULT_DEVICE_PLUGIN_DIR, KUBELET_SOCKET, HEALTHY, loadDevicePluginApi } from './api.js';
export { eniDevices } from './devices.js';
