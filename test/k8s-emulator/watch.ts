/** `?watch=true`: a chunked stream of newline-delimited watch events, starting after the requested resourceVersion. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from './object.js';
import type { Route } from './routes.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Store, Watcher } from './store.js';
import { ApiError, deliver } from './store.js';

export type GoneMode = 'event' | 'http';

export interface OpenWatch {
  readonly watcher: Watcher;
  readonly bookmarks: boolean;
  /** Destroy the socket (abrupt) or end the stream cleanly. */
  close(abrupt: boolean): void;
}

export function serveWatch(
  store: Store,
  route: Route,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
  goneMode: GoneMode,
  open: Set<OpenWatch>,
): void {
  const rvParam = query.get('resourceVersion') ?? '';
  const fromRv = rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
  if (fromRv !== undefined && (!Number.isFinite(fromRv) || store.isCompacted(fromRv))) {
    const gone = new ApiError(410, 'Expired', `too old resource version: ${rvParam} (${String(store.resourceVersion())})`);
    if (goneMode === 'http') {
      res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify(gone.toStatus()));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify({ type: 'ERROR', object: gone.toStatus() })}\n`);
    return;
  }
  const field = parseFieldSelector(query.get('fieldSelector'));
  const label = parseLabelSelector(query.get('labelSelector'));
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const watcher: Watcher = {
    kind: route.resource.kind,
    namespace: route.namespace,
    matches: (o: KubeObject) => field(o) && label(o),
    send: (type, object) => {
      if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
    },
  };
  if (fromRv === undefined) {
    for (const obj of store.list(route.resource.kind, route.namespace)) if (watcher.matches(obj)) watcher.send('ADDED', obj);
  } else {
    for (const entry of store.since(route.resource.kind, fromRv)) deliver(watcher, entry);
  }
  store.watchers.add(watcher);
  const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '0');
  const timer = timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
  const handle: OpenWatch = {
    watcher,
    bookmarks: query.get('allowWatchBookmarks') === 'true',
    close: (abrupt) => (abrupt ? req.socket.destroy() : res.end()),
  };
  open.add(handle);
  const cleanup = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    store.watchers.delete(watcher);
    open.delete(handle);
  };
  res.on('close', cleanup);
  res.on('finish', cleanup);
}
