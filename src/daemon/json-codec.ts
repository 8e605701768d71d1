/** The JSON codec of `application/grpc+json`: one JSON document per gRPC message. */
export function serializeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export function deserializeJson(buf: Buffer): unknown {
  return JSON.parse(buf.toString('utf8')) as unknown;
}
