import { createRequire } from 'module';
const require = createRequire('/root/.cache/rooms-bench/driver/node_modules/');
const signalR = require('@microsoft/signalr');
const [url, n] = [process.argv[2], +process.argv[3]];
const conns = [];
for (let i = 0; i < n; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, n - i) }, async () => {
    const c = new signalR.HubConnectionBuilder().withUrl(url + '/sockets', { transport: signalR.HttpTransportType.WebSockets, skipNegotiation: false }).configureLogging(signalR.LogLevel.None).build();
    await c.start(); conns.push(c);
  }));
}
console.log('held', conns.length);
await new Promise(r => setTimeout(r, +process.argv[4] * 1000));
process.exit(0);
