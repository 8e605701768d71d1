/**
 * Request authentication as Alibaba Cloud's POP gateway does it, recomputed exactly as the SDK
 * (@alicloud/openapi-core 1.0.x) signs: ACS3-HMAC-SHA256 (the default; Authorization header over the canonical request)
 * and the classic RPC signature (`signatureAlgorithm: 'v2'`: HMAC-SHA1 over the sorted query, `Signature` param).
 * STS credentials carry a security token (header `x-acs-security-token` or query `SecurityToken`) checked too.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { EcsApiError } from './errors.js';

export interface AccessKey {
  readonly id: string;
  readonly secret: string;
  /** STS: the token that must accompany this key, and when it stops working (ms since epoch). */
  readonly securityToken?: string;
  readonly expiresAt?: number;
}

export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  /** Decoded query parameters, as the SDK set them before encoding. */
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export type SignatureStyle = 'ACS3-HMAC-SHA256' | 'v2';

/** The SDK's percent-encoding (encodeURIComponent plus !'()*). */
export function popEncode(s: string): string {
  return encodeURIComponent(s).replace(/!/gu, '%21').replace(/'/gu, '%27').replace(/\(/gu, '%28').replace(/\)/gu, '%29').replace(/\*/gu, '%2A');
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const MAX_SKEW_MS = 15 * 60_000;

/**
 * Verifies a request; returns the access key id and style, or throws the gateway's error (IncompleteSignature,
 * SignatureDoesNotMatch, InvalidAccessKeyId.NotFound, InvalidSecurityToken.*, InvalidTimeStamp.Expired, SignatureNonceUsed).
 */
export function verifySignature(req: SignedRequest, keys: (id: string) => AccessKey | undefined, nonces: Set<string>, now = Date.now()): { keyId: string; style: SignatureStyle } {
  const auth = header(req.headers, 'authorization');
  if (auth?.startsWith('ACS3-') === true) return { keyId: verifyAcs3(req, auth, keys, nonces, now), style: 'ACS3-HMAC-SHA256' };
  if (req.query.Signature !== undefined) return { keyId: verifyV2(req, keys, nonces, now), style: 'v2' };
  throw new EcsApiError(400, 'MissingSignature', 'The input parameter "Signature" that is mandatory for processing this request is not supplied.');
}

function lookup(keys: (id: string) => AccessKey | undefined, id: string, token: string | undefined, now: number): AccessKey {
  const key = keys(id);
  if (key === undefined) throw new EcsApiError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  if (key.securityToken !== undefined) {
    if (token === undefined || token === '') throw new EcsApiError(400, 'InvalidSecurityToken.Missing', 'The security token you provided is required for this access key.');
    if (!equal(token, key.securityToken)) throw new EcsApiError(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'The security token you provided does not match with the access key.');
    if (key.expiresAt !== undefined && now >= key.expiresAt) throw new EcsApiError(400, 'InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.');
  } else if (token !== undefined && token !== '') {
    throw new EcsApiError(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'The security token you provided does not match with the access key.');
  }
  return key;
}

function checkFreshness(timestamp: string | undefined, nonce: string | undefined, nonces: Set<string>, now: number, field: string): void {
  const t = timestamp === undefined ? NaN : Date.parse(timestamp);
  if (!Number.isFinite(t)) throw new EcsApiError(400, 'MissingParameter', `The input parameter "${field}" that is mandatory for processing this request is not supplied.`);
  if (Math.abs(now - t) > MAX_SKEW_MS) throw new EcsApiError(400, 'InvalidTimeStamp.Expired', `Specified time stamp or date value is expired.`);
  if (nonce === undefined || nonce === '') throw new EcsApiError(400, 'MissingSignatureNonce', 'The input parameter "SignatureNonce" that is mandatory for processing this request is not supplied.');
  if (nonces.has(nonce)) throw new EcsApiError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
  nonces.add(nonce);
  if (nonces.size > 100_000) nonces.clear();
}

function verifyAcs3(req: SignedRequest, auth: string, keys: (id: string) => AccessKey | undefined, nonces: Set<string>, now: number): string {
  const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]*),Signature=([0-9a-f]{64})$/u.exec(auth);
  if (m === null) throw new EcsApiError(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
  const [, keyId = '', signedList = '', signature = ''] = m;
  const signed = signedList.split(';');
  // the SDK signs host and every x-acs-* header it sends (and content-type when there is one)
  const mustSign = Object.keys(req.headers).filter((h) => h === 'host' || h.startsWith('x-acs-') || h === 'content-type');
  const unsigned = mustSign.filter((h) => !signed.includes(h));
  if (unsigned.length > 0 || signed.some((h) => header(req.headers, h) === undefined)) {
    throw new EcsApiError(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards. (unsigned or missing headers: ${[...unsigned, ...signed.filter((h) => header(req.headers, h) === undefined)].join(',')})`);
  }
  const payloadHash = createHash('sha256').update(req.body).digest('hex');
  if (header(req.headers, 'x-acs-content-sha256') !== payloadHash) throw new EcsApiError(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards. (x-acs-content-sha256)');
  const key = lookup(keys, keyId, header(req.headers, 'x-acs-security-token'), now);
  const keysSorted = Object.keys(req.query).sort();
  const canonicalQuery = keysSorted.map((k) => `${k}=${popEncode(req.query[k] ?? '')}`).join('&');
  const canonicalHeaders = [...signed].sort().map((h) => `${h}:${(header(req.headers, h) ?? '').trim()}\n`).join('');
  const canonicalUri = req.path.replace(/\+/gu, '%20').replace(/\*/gu, '%2A').replace(/%7E/gu, '~');
  const canonicalRequest = `${req.method}\n${canonicalUri}\n${canonicalQuery}\n${canonicalHeaders}\n${[...signed].sort().join(';')}\n${payloadHash}`;
  const stringToSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const expected = createHmac('sha256', key.secret).update(stringToSign).digest('hex');
  if (!equal(expected, signature)) {
    throw new EcsApiError(400, 'SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`);
  }
  checkFreshness(header(req.headers, 'x-acs-date'), header(req.headers, 'x-acs-signature-nonce'), nonces, now, 'x-acs-date');
  return keyId;
}

function verifyV2(req: SignedRequest, keys: (id: string) => AccessKey | undefined, nonces: Set<string>, now: number): string {
  const q = req.query;
  if (q.SignatureMethod !== 'HMAC-SHA1' || q.SignatureVersion !== '1.0') {
    throw new EcsApiError(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards. (SignatureMethod/SignatureVersion)');
  }
  const keyId = q.AccessKeyId;
  if (keyId === undefined || keyId === '') throw new EcsApiError(400, 'MissingAccessKeyId', 'The input parameter "AccessKeyId" that is mandatory for processing this request is not supplied.');
  const key = lookup(keys, keyId, q.SecurityToken, now);
  const params = Object.keys(q).filter((k) => k !== 'Signature').sort();
  const canonical = params.map((k) => `${popEncode(k)}=${popEncode(q[k] ?? '')}`).join('&');
  const stringToSign = `${req.method}&${popEncode('/')}&${popEncode(canonical)}`;
  const expected = createHmac('sha1', `${key.secret}&`).update(stringToSign).digest('base64');
  if (!equal(expected, q.Signature ?? '')) {
    // as the real gateway does, the message quotes the string to sign (it holds the AccessKeyId, never the secret)
    throw new EcsApiError(400, 'SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`);
  }
  checkFreshness(q.Timestamp, q.SignatureNonce, nonces, now, 'Timestamp');
  return keyId;
}
