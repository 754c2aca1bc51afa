// The other ceiling: the same JSON POST answered by `node:http` alone (no framework),
// reading and parsing the body and answering a decision-sized JSON body.
import { createServer } from 'node:http';

let n = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{"status":"ok"}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { actor?: { id?: unknown } };
    n += 1;
    const out = JSON.stringify({ decision_id: `dec_${n}`, outcome: 'ALLOW', reason: `echo ${String(body.actor?.id)}`, risk_score: 0.12, constraints: {}, timestamp: new Date().toISOString(), audit_ref: `aud_${n}`, status: 'final' });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out) }).end(out);
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const a = server.address();
  console.log(`listening ${typeof a === 'object' && a ? a.port : ''}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
