// s3_server.mjs - a real S3-compatible server on loopback for the lake export tests: s3rver (which
// verifies AWS Signature V4 with the key pair S3RVER/S3RVER) behind a small fault-injecting
// proxy. usage: node s3_server.mjs DATA_DIR BUCKET PORT_FILE
// Writes the proxy's port to PORT_FILE once both listen, then serves until killed.
// Proxy control (not forwarded): GET /__faults?status=N&drop=M makes the next N object PUTs
// (single or part uploads) answer 500 InternalError, then the next M PUTs lose their connection;
// GET /__stats returns {"puts":..,"failed":..,"dropped":..,"multipart_completes":..,
// "unsigned":..} (unsigned: requests without a SigV4 Authorization header).
import S3rver from 's3rver';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { createHash, createHmac } from 'node:crypto';

// s3rver does not check Signature V4 ("unimplemented"), so the proxy does, independently of curl:
// key S3RVER, secret S3RVER; the x-amz-content-sha256 header must also be the body's real hash.
const SECRET = 'S3RVER';
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
function sigv4Problem(req, body) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, *SignedHeaders=([^,]+), *Signature=([0-9a-f]{64})$/.exec(req.headers.authorization || '');
  if (!m) return 'no SigV4 Authorization header';
  const [, , date, region, signed, sig] = m;
  const sha = createHash('sha256').update(body).digest('hex');
  if (req.headers['x-amz-content-sha256'] !== sha) return 'x-amz-content-sha256 is not the body hash';
  const [path, query = ''] = req.url.split('?');
  const cq = query ? query.split('&').map((kv) => { const i = kv.indexOf('='); const k = i < 0 ? kv : kv.slice(0, i); const v = i < 0 ? '' : kv.slice(i + 1); return [enc(decodeURIComponent(k)), enc(decodeURIComponent(v))]; })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&') : '';
  const names = signed.split(';');
  const ch = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const creq = [req.method, path, cq, ch, signed, req.headers['x-amz-content-sha256']].join('\n');
  const sts = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'], `${date}/${region}/s3/aws4_request`, createHash('sha256').update(creq).digest('hex')].join('\n');
  let k = createHmac('sha256', 'AWS4' + SECRET).update(date).digest();
  for (const part of [region, 's3', 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  const want = createHmac('sha256', k).update(sts).digest('hex');
  if (want !== sig) return 'signature does not match';
  if (!names.includes('host') || !names.includes('x-amz-date') || !names.includes('x-amz-content-sha256')) return `signed headers ${signed} lack host, x-amz-date or x-amz-content-sha256`;
  return null;
}

const [dir, bucket, portFile] = process.argv.slice(2);
const s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
const { port: s3port } = await s3.run();

let failStatus = 0, failDrop = 0;
const stats = { puts: 0, failed: 0, dropped: 0, multipart_completes: 0, unsigned: 0, bad_signatures: 0 };
const proxy = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/__faults') {
    failStatus = Number(url.searchParams.get('status') || 0);
    failDrop = Number(url.searchParams.get('drop') || 0);
    res.end('ok');
    return;
  }
  if (url.pathname === '/__stats') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(stats));
    return;
  }
  if (!/^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization || '')) stats.unsigned++;
  // anonymous GETs are the test's own reads; everything metrify sends must be signed correctly
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => handle(req, res, url, Buffer.concat(chunks)));
});
function handle(req, res, url, body) {
  if (req.headers.authorization) {
    const problem = sigv4Problem(req, body);
    if (problem) {
      stats.bad_signatures++;
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>${problem}</Message></Error>`);
      return;
    }
  }
  if (req.method === 'PUT') {
    stats.puts++;
    if (failStatus > 0) {
      failStatus--;
      stats.failed++;
      res.writeHead(500, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected</Message></Error>');
      return;
    }
    if (failDrop > 0) {
      failDrop--;
      stats.dropped++;
      req.socket.destroy();
      return;
    }
  }
  if (req.method === 'POST' && url.searchParams.has('uploadId')) stats.multipart_completes++;
  const up = http.request({ host: '127.0.0.1', port: s3port, method: req.method, path: req.url, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', () => req.socket.destroy());
  up.end(body);
}
proxy.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(proxy.address().port)));
const stop = async () => { proxy.close(); await s3.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
