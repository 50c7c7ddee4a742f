// Hello world as a fetch handler.
const headers = { 'content-type': 'text/plain', 'x-pid': String(process.pid) };
export default {
  fetch() {
    return new Response('Hello, world!', { headers });
  },
};
