// A tiny static server for the example: node examples/browser/serve.mjs [port]
// Serves this directory, the web build of the package (wasm/pkg/web, made by wasm/build.sh)
// under /pkg/, and the examples' datasets (examples/data) under /data/, on 127.0.0.1 only.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const roots = {
  '/pkg/': path.join(here, '../../wasm/pkg/web'),
  '/data/': path.join(here, '../data'),
  '/': here,
};
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.csv': 'text/csv; charset=utf-8',
};

/** The file behind a URL path, or null if it lies outside the served directories. */
function resolve(urlPath) {
  const [prefix, root] = Object.entries(roots).find(([p]) => urlPath.startsWith(p));
  const rel = decodeURIComponent(urlPath.slice(prefix.length)) || 'index.html';
  const file = path.resolve(root, rel);
  return file.startsWith(root + path.sep) ? file : null;
}

/** Starts the server on `port` (0: any free port); resolves to it once listening. */
export function start(port = 0) {
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const file = resolve(url.pathname);
      if (req.method !== 'GET' || !file) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': types[path.extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch (e) {
      res.writeHead(e.code === 'ENOENT' || e.code === 'EISDIR' ? 404 : 500, { 'content-type': 'text/plain' });
      res.end(e.code === 'ENOENT' || e.code === 'EISDIR' ? 'not found\n' : 'server error\n');
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok(server));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const server = await start(Number(process.argv[2] ?? 8080));
  console.log(`http://127.0.0.1:${server.address().port}/`);
}
