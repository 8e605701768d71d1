/** An ECS OpenAPI error as the gateway returns it: HTTP status, `Code`, `Message`. */
export class EcsApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EcsApiError';
  }
}

/** The errors the emulator emits, with the HTTP status and message Aliyun answers them with. */
export const ECS_ERRORS = {
  Throttling: [400, 'Request was denied due to request throttling.'],
  'Throttling.User': [400, 'Request was denied due to user flow control.'],
  InternalError: [500, 'The request processing has failed due to some unknown error, exception or failure.'],
  ServiceUnavailable: [503, 'The request has failed due to a temporary failure of the server.'],
  'InvalidVSwitchId.IpNotEnough': [403, 'The specified VSwitch has not enough IpAddress.'],
  'QuotaExceeded.PrivateIpAddress': [403, 'The quota of private IP addresses on the network interface is exceeded.'],
  EniPerInstanceLimitExceeded: [403, 'The maximum number of network interfaces attached to the instance has been reached.'],
  'InvalidEniId.NotFound': [404, 'The specified network interface does not exist.'],
  'InvalidEcsId.NotFound': [404, 'The specified instance does not exist.'],
  'InvalidVSwitchId.NotFound': [404, 'The specified VSwitch does not exist.'],
  'InvalidIp.IpUnassigned': [403, 'The specified IP address is not assigned to the network interface.'],
  'InvalidOperation.InvalidEniState': [403, 'The operation is not allowed in the current state of the network interface.'],
  'InvalidOperation.Conflict': [403, 'Another operation on the resource is in progress.'],
  'Operation.Conflict': [403, 'The operation conflicts with another operation in progress.'],
  'InvalidOperation.Ipv4CountExceeded': [403, 'The number of private IPv4 addresses exceeds the limit of the instance type.'],
  'InvalidIp.Address': [400, 'The specified IP address is invalid or not in the VSwitch CIDR.'],
  'InvalidIp.IpAssigned': [403, 'The specified IP address is already in use.'],
  IdempotentParameterMismatch: [400, 'The request uses the same client token as a previous, but non-identical request.'],
  'Forbidden.RAM': [403, 'User not authorized to operate on the specified resource, or this API does not support RAM.'],
} as const satisfies Record<string, readonly [number, string]>;

export type EcsErrorCode = keyof typeof ECS_ERRORS;

export function ecsError(code: EcsErrorCode, detail?: string): EcsApiError {
  const [status, message] = ECS_ERRORS[code];
  return new EcsApiError(status, code, detail === undefined ? message : `${message} ${detail}`);
}
