// The ceiling: a bare Express 5 JSON POST on the same machine, answering a body of the same size as a decision.
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json());
let n = 0;
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post('/api/v1/governance/propose', (req, res) => {
  n += 1;
  res.json({ decision_id: `dec_${n}`, outcome: 'ALLOW', reason: `echo ${String(req.body?.actor?.id)}`, risk_score: 0.12, constraints: {}, timestamp: new Date().toISOString(), audit_ref: `aud_${n}`, status: 'final' });
});
const port = Number(process.env.PORT ?? 0);
const server = app.listen(port, '127.0.0.1', () => {
  const a = server.address();
  console.log(`listening ${typeof a === 'object' && a ? a.port : port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
