const started = Date.now();
let count = 0;

console.log(`worker started (pid ${process.pid})`);

setInterval(() => {
  count += 1;
  console.log(`tick ${count} after ${Math.round((Date.now() - started) / 1000)}s`);
}, 1000);
