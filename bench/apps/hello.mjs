// Hello world as a (req, res) listener; x-pid tells which process answered.
const pid = String(process.pid);
export default function hello(_req, res) {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '13', 'x-pid': pid });
  res.end('Hello, world!');
}
