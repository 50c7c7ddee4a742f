// The smallest corral app: a fetch handler in TypeScript, run without a build step.
//   npx corral examples/hello.ts            → http://127.0.0.1:8000
//   npx corral examples/hello.ts -w 4 -b 0.0.0.0:8080
export default {
  fetch(request: Request): Response {
    const { pathname } = new URL(request.url);
    return new Response(`Hello from corral (pid ${process.pid}) at ${pathname}\n`, {
      headers: { 'content-type': 'text/plain' },
    });
  },
};
