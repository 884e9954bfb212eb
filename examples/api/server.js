import { createServer } from 'node:http';
import { reply } from './message.js';

const host = '127.0.0.1';
const port = Number(process.env.PORT || 4310);

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(reply(process.env.DEVSUP_CODE_ID));
});

server.listen(port, host, () => {
  // Print the bound port, not the requested one: PORT=0 picks a free port.
  console.log(`listening on http://${host}:${server.address().port}`);
});

// Finish promptly on the stop signal instead of waiting for idle keep-alive connections.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
